/**
 * Audit retention (issue 11 §5): audit lines older than `AUDIT_RETENTION_DAYS` (365 by
 * default, the seed's figure) leave the `audit_log` read model, once when the projector starts
 * and every hour after. The events stay in the store — history is never rewritten; only the
 * read model forgets. The projection's `apply` skips the same events (`projections/auditLog.ts`),
 * so a rebuild does not bring swept lines back.
 *
 * Every generation that has tables is swept: the live one readers see, a live one of an older
 * version still serving readers during a rebuild, and the building one (lines that aged while it
 * was built). Several projectors may sweep at once: a line deleted twice is deleted once.
 *
 * Only audit lines go: the `executions` read model keeps its rows (an execution is the state of
 * a rule's run, which undo and `GET /app/executions/:id/why` need, not a line of the audit
 * trail), and so do the other read models.
 */
import { Clock, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { auditHorizon, AuditRetentionDays, auditLogProjection, forgetAuditLinesBefore } from "../../projections/auditLog.ts"
import { physicalTable } from "../projections/Projection.ts"
import { ProjectionStore } from "../projections/ProjectionStore.ts"

const BATCH = 10_000

/** How often the sweep runs after the first, at start. */
export const AUDIT_SWEEP_INTERVAL = Duration.hours(1)

/**
 * Deletes the audit lines from before the horizon of `days` (on Effect's `Clock`) from every
 * generation of the read model that has tables, in batches; returns the horizon and how many
 * lines went.
 */
export const sweepAuditLog = Effect.fn("AuditRetention.sweep")(function*(days: number) {
  const sql = yield* SqlClient.SqlClient
  const store = yield* ProjectionStore
  const horizon = auditHorizon(days, yield* Clock.currentTimeMillis)
  const generations = (yield* store.generations(auditLogProjection.name)).filter((g) => g.status !== "retired")
  let deleted = 0
  for (const g of generations) {
    for (const table of auditLogProjection.tables) {
      for (;;) {
        const n = yield* forgetAuditLinesBefore(sql, physicalTable(table.name, g.generation), horizon, BATCH)
        deleted += n
        if (n < BATCH) break
      }
    }
  }
  return { horizon, deleted }
})

/**
 * The projector's sweep, every `every` (an hour in the server) and once at start, with the
 * retention from `AUDIT_RETENTION_DAYS`. An invalid value fails the layer (the process does not
 * start); a failed sweep is logged and tried again at the next tick.
 */
export const layerEvery = (every: Duration.Input) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const days = yield* AuditRetentionDays
    yield* sweepAuditLog(days).pipe(
      Effect.tap(({ deleted, horizon }) =>
        deleted > 0 ? Effect.logInfo(`audit retention: ${deleted} audit line(s) from before ${horizon.toISOString()} left the read model`) : Effect.void
      ),
      Effect.catchCause((cause) => Effect.logWarning("audit retention sweep failed; trying again at the next tick", cause)),
      Effect.repeat(Schedule.spaced(every)),
      Effect.forkScoped
    )
  }))

/** Hourly, and once at start. */
export const layer = layerEvery(AUDIT_SWEEP_INTERVAL)
