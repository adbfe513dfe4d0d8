/**
 * `audit_log`: one plain-language line per event ("Bulk job 550e… completed: 1,520 updated,
 * 3 failed"), who caused it and when. Kept per shop; this is what merchants and auditors read.
 * The data plane's observations (orders, touchpoints, …) are not audit lines (see
 * `domain/audit/dataPlane.ts`).
 *
 * Retention (issue 11 §5): lines are kept `AUDIT_RETENTION_DAYS` days (365 by default, the
 * seed's figure). Older lines leave the read model — the events stay in the store. Two halves
 * keep that true: `apply` never writes a line older than the horizon (so a rebuild does not
 * bring swept lines back), and a scheduled sweep (`src/automation/AuditRetention.ts`) deletes
 * the lines that have aged past it since. The horizon is a whole UTC day (`auditHorizon`), so
 * during a day a rebuild writes exactly the lines a swept generation holds: their checksums
 * agree.
 */
import { Clock, Config, Effect, Schema } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { describeAutomationEvent } from "../domain/audit/automation.ts"
import { describeOutboundEvent, isDeliveryStep } from "../domain/audit/outbound.ts"
import { describeDataPlaneEvent, isAuditable } from "../domain/audit/dataPlane.ts"
import { describeEvent } from "../domain/audit/describeEvent.ts"
import type { RecordedEvent } from "../domain/events/Envelope.ts"
import { PRIVACY_EVENTS } from "../domain/privacy/PrivacyEvents.ts"
import type { Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

/** The seed's figure: a year of audit lines. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365

const positiveDays = "must be a positive whole number of days (e.g. 365)"

/** `AUDIT_RETENTION_DAYS`: how many days audit lines stay in the read model; a positive integer, 365 when unset. */
export const AuditRetentionDays: Config.Config<number> = Config.schema(
  Schema.Finite.check(Schema.isInt({ message: positiveDays }), Schema.isGreaterThan(0, { message: positiveDays })),
  "AUDIT_RETENTION_DAYS"
).pipe(Config.withDefault(DEFAULT_AUDIT_RETENTION_DAYS))

const DAY_MS = 86_400_000

/**
 * The oldest instant an audit line may be from, `now` given: the start of `now`'s UTC day, `days`
 * days back. A line is kept at least `days` days and leaves within the day after; one horizon a
 * day, so the sweep and a rebuild's `apply` agree all day long.
 */
export const auditHorizon = (days: number, nowMillis: number): Date => new Date((Math.floor(nowMillis / DAY_MS) - days) * DAY_MS)

/** The horizon now: the configured retention on Effect's `Clock` (which tests move). */
export const currentAuditHorizon: Effect.Effect<Date, Config.ConfigError> = Effect.gen(function*() {
  const days = yield* AuditRetentionDays
  return auditHorizon(days, yield* Clock.currentTimeMillis)
})

/**
 * Deletes at most `limit` lines from before `horizon` from one physical table of the read model
 * (a generation's `audit_log__g<n>`); returns how many. One short statement: batches never hold
 * many row locks at once, and a repeat (another projector's sweep) finds nothing left.
 */
export const forgetAuditLinesBefore = (sql: SqlClient, physical: string, horizon: Date, limit: number): Effect.Effect<number, SqlError> =>
  Effect.map(
    sql<{ n: number }>`
      WITH old AS (
        SELECT position FROM ${sql(physical)} WHERE occurred_at < ${horizon.toISOString()}::timestamptz LIMIT ${limit}
      ), gone AS (DELETE FROM ${sql(physical)} t USING old WHERE t.position = old.position RETURNING 1)
      SELECT count(*)::int AS n FROM gone`,
    (rows) => rows[0]?.n ?? 0
  )

const isPrivacyEvent = (type: string): type is keyof typeof PRIVACY_EVENTS => Object.hasOwn(PRIVACY_EVENTS, type)

/**
 * The event as its line is written from: the privacy events, whose lines quote their data,
 * decoded with their schemas first (one that does not decode stops the projection at it).
 */
const described = (e: RecordedEvent): Effect.Effect<RecordedEvent> =>
  isPrivacyEvent(e.type) ? Effect.map(decodeData(PRIVACY_EVENTS[e.type], e), (data) => ({ ...e, data })) : Effect.succeed(e)

export const auditLogProjection: Projection = {
  name: "audit_log",
  // v2: data-plane observations left out; lifecycle and privacy events described
  // v3: the decision plane's triggers, rules and every execution step described
  // v4: retention: lines older than the horizon are not written; indexed by occurred_at for the sweep
  // v5: outbound webhooks: subscriptions and dead letters described, attempts left out
  version: 5,
  eventTypes: "all",
  tables: [{
    name: "audit_log",
    columns: [
      "position bigint NOT NULL",
      "shop text NOT NULL",
      "stream_id text NOT NULL",
      "event_type text NOT NULL",
      "actor_kind text NOT NULL",
      "actor_id text NOT NULL",
      "correlation_id text NOT NULL",
      "summary text NOT NULL",
      "occurred_at timestamptz NOT NULL"
    ],
    primaryKey: ["position"],
    indexes: [["shop", "position"], ["stream_id", "position"], ["occurred_at"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.gen(function*() {
      // a configuration that does not parse stops the server at start (the sweep reads it first)
      const horizon = yield* Effect.orDie(currentAuditHorizon)
      // past the retention: the event stays in the store, its line is not written (again)
      const kept = events.filter((e) => isAuditable(e.type) && !isDeliveryStep(e.type) && e.occurredAt.getTime() >= horizon.getTime())
      const audited = yield* Effect.forEach(kept, described)
      if (audited.length === 0) return
      const rows = audited.map((e) => ({
        position: e.position,
        shop: e.shop,
        stream_id: e.streamId,
        event_type: e.type,
        actor_kind: e.actor.kind,
        actor_id: e.actor.id,
        correlation_id: e.correlationId,
        summary: describeDataPlaneEvent(e) ?? describeAutomationEvent(e) ?? describeOutboundEvent(e) ?? describeEvent(e),
        occurred_at: e.occurredAt.toISOString()
      }))
      yield* sql`
        INSERT INTO ${sql.unsafe(table("audit_log"))}
          (position, shop, stream_id, event_type, actor_kind, actor_id, correlation_id, summary, occurred_at)
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS x(position bigint, shop text, stream_id text, event_type text, actor_kind text, actor_id text,
               correlation_id text, summary text, occurred_at timestamptz)
        ON CONFLICT (position) DO NOTHING`
    })
}
