/**
 * `ActorStore` (src/actors/ActorStore.ts) on PostgreSQL, batched. Every actor's step is a
 * request; Effect's `RequestResolver` gathers the requests of concurrently running actors and
 * each batch costs one round trip:
 * - `begin`: "already applied?", "is its predecessor handled?" (`shop_cursors.last_seq`, the
 *   highest sequence of the shop handled — applied, dead-lettered or found a duplicate — has
 *   reached it) plus the durable attempt count, for many messages at once;
 * - `commit`: `apply_messages` (fence + appends + timers) for many messages in one
 *   transaction. If the batch fails (say one message's expected version conflicts), its
 *   items are retried one by one, so one bad message never fails its neighbours.
 * At most one message per shop is in a batch: an actor awaits its commit before its next.
 * Each resolver runs at most two batches at once (one on PGlite's single session,
 * `BatchGate.ts`): what arrives meanwhile goes in the next batch.
 *
 * "Already applied" means exactly one thing: the message's id is in `processed_messages`
 * (written in the transaction that applied or dead-lettered it). A message's log sequence
 * never makes it a duplicate; a message applied below the shop's highest applied sequence is
 * applied anyway and reported `applied_late` (an order violation, see migration 0013).
 *
 * Durable timers are rows of `scheduled_messages`, written by `apply_messages` with the
 * decision that scheduled them.
 */
import { Effect, Exit, Layer, Request, RequestResolver } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { MessageDeadLettered } from "../../domain/events/DeadLetterEvents.ts"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { ConcurrencyConflict, EventStore, PersistenceError, StreamOwnershipViolation } from "../../src/eventstore/EventStore.ts"
import {
  ActorStore,
  type BeginResult,
  type CommitError,
  type CommitItem,
  type CommitStatus,
  type DeadLetterItem,
  type DueTimer,
  PartitionNotOwned
} from "../../src/actors/ActorStore.ts"
import type { Append } from "../../src/actors/ShopHandlers.ts"
import type { ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { EventSealing } from "../../src/eventstore/EventSealing.ts"
import { batchGateFor } from "./BatchGate.ts"
import { DatabaseMode } from "./Database.ts"
import { AfterAppend, expectedArgs, toAppendPayload } from "./PgEventStore.ts"

class Begin extends Request.Class<{
  readonly shop: string
  readonly messageId: string
  readonly sequence: number
  readonly predecessor: number | undefined
}, BeginResult, SqlError> {}

class Commit extends Request.Class<{ readonly item: CommitItem }, CommitStatus, CommitError> {}

/** Maps `append_events`' custom SQLSTATEs to the store's typed errors. */
export const classifyAppendError = (error: SqlError): CommitError => {
  const cause = error.reason.cause as { code?: string; detail?: string; message?: string } | undefined
  const stream = /on (\S+)$/.exec(cause?.message ?? "")?.[1] ?? /stream (\S+) belongs/.exec(cause?.message ?? "")?.[1] ?? "?"
  if (cause?.code === "SU001") return new ConcurrencyConflict({ streamId: stream, expected: "?", actual: Number(cause.detail ?? -1) })
  if (cause?.code === "SU003") return new PartitionNotOwned({ partitions: cause.detail ?? "?" })
  if (cause?.code === "SU002") return new StreamOwnershipViolation({ streamId: stream, owner: cause.detail ?? "", attemptedBy: "?" })
  if (error.reason._tag === "UniqueViolation") return new ConcurrencyConflict({ streamId: stream, expected: "?", actual: -1 })
  return new PersistenceError({ operation: "apply_messages", cause: error })
}

const itemJson = (item: CommitItem) => ({
  shop: item.message.shop,
  message_id: item.message.messageId,
  seq: item.sequence,
  partition: item.partition,
  owner_pid: item.ownerPid,
  appends: item.appends.filter((a) => a.events.length > 0).map((a) => {
    const [kind, expected] = expectedArgs(a.expected)
    return { stream: a.streamId, expected_kind: kind, expected, events: toAppendPayload(a.events as ReadonlyArray<NewEvent>, item.metadata) }
  }),
  schedule: item.schedule.map((t) => ({
    id: t.id,
    partition: item.partition,
    due_at: t.at.toISOString(),
    message: {
      shop: item.message.shop,
      // Unique per scheduling: a timer re-armed under the same id is a new message, while the
      // same firing published twice (crash before the row is deleted) is deduplicated.
      messageId: `${t.id}@${t.at.getTime()}`,
      type: t.type,
      ...(t.version === undefined ? {} : { version: t.version }),
      payload: t.payload,
      correlationId: item.message.correlationId ?? item.message.messageId
    }
  })),
  cancel: item.cancelTimers,
  ...(item.logSequence === undefined ? {} : { log_seq: item.logSequence })
})

/** The store on the current database; commits go through `apply_messages` (migrations 0013, 0019). */
export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const afterAppend = yield* AfterAppend
  const sealing = yield* EventSealing
  const store = yield* EventStore
  const mode = yield* DatabaseMode
  const beginGate = batchGateFor(mode)
  const commitGate = batchGateFor(mode)

  const beginResolver = RequestResolver.make<Begin>((entries) =>
    beginGate.run(Effect.gen(function*() {
      const rows = yield* sql<{ i: number; applied: boolean; waiting: boolean; attempts: number | null }>`
        WITH input AS (
          SELECT * FROM unnest(${entries.map((e) => e.request.shop)}::text[], ${entries.map((e) => e.request.messageId)}::text[],
                               ${entries.map((e) => e.request.sequence)}::bigint[],
                               ${entries.map((e) => e.request.predecessor ?? 0)}::bigint[]) WITH ORDINALITY AS t(shop, message_id, seq, pred, i)
        ), checked AS (
          -- LATERAL … LIMIT 1 keeps these primary-key probes even in a plan cached while the
          -- tables were empty (EXISTS was planned as a hash join over a full scan)
          SELECT i.*, (p.hit IS NOT NULL) AS applied,
                 (p.hit IS NULL AND i.pred > coalesce(c.last_seq, 0)) AS waiting
            FROM input i
            LEFT JOIN LATERAL (SELECT 1 AS hit FROM processed_messages p WHERE p.shop = i.shop AND p.message_id = i.message_id LIMIT 1) p ON true
            LEFT JOIN LATERAL (SELECT c.last_seq FROM shop_cursors c WHERE i.pred > 0 AND c.shop = i.shop LIMIT 1) c ON true
        ), attempt AS (
          INSERT INTO message_attempts (shop, message_id, attempts)
          SELECT shop, message_id, 1 FROM checked WHERE NOT applied AND NOT waiting
          ON CONFLICT (shop, message_id) DO UPDATE SET attempts = message_attempts.attempts + 1, updated_at = now()
          RETURNING shop, message_id, attempts
        ), handled AS (
          -- a duplicate is handled too: the cursor reaches it, so a message published
          -- behind this copy does not wait for it
          INSERT INTO shop_cursors AS c (shop, last_seq)
          SELECT shop, seq FROM checked WHERE applied
          ON CONFLICT (shop) DO UPDATE SET last_seq = excluded.last_seq, updated_at = now()
           WHERE c.last_seq < excluded.last_seq
        )
        SELECT c.i::int AS i, c.applied, c.waiting, a.attempts FROM checked c
          LEFT JOIN attempt a ON a.shop = c.shop AND a.message_id = c.message_id`
      for (const r of rows) {
        entries[r.i - 1]!.completeUnsafe(Exit.succeed({ applied: r.applied, waiting: r.waiting, attempts: r.attempts ?? 0 }))
      }
    }))
  ).pipe(RequestResolver.setDelayEffect(beginGate.delay), RequestResolver.batchN(500))

  const applyOne = (entry: Request.Entry<Commit>) =>
    sql<{ idx: number; status: CommitStatus }>`SELECT * FROM apply_messages(${JSON.stringify([itemJson(entry.request.item)])}::jsonb)`.pipe(
      Effect.matchEffect({
        onFailure: (error) => Effect.sync(() => entry.completeUnsafe(Exit.fail(classifyAppendError(error)))),
        onSuccess: (rows) => Effect.sync(() => entry.completeUnsafe(Exit.succeed(rows[0]!.status)))
      })
    )

  const commitResolver = RequestResolver.make<Commit>((entries) =>
    commitGate.run(Effect.gen(function*() {
      const batch = yield* Effect.result(
        sql<{ idx: number; status: CommitStatus }>`
          SELECT * FROM apply_messages(${JSON.stringify(entries.map((e) => itemJson(e.request.item)))}::jsonb)`
      )
      if (batch._tag === "Success") {
        for (const r of batch.success) entries[r.idx]!.completeUnsafe(Exit.succeed(r.status))
      } else if (entries.length === 1) {
        entries[0]!.completeUnsafe(Exit.fail(classifyAppendError(batch.failure)))
      } else {
        yield* Effect.forEach(entries, applyOne, { discard: true })
      }
      yield* afterAppend
    }))
  ).pipe(RequestResolver.setDelayEffect(commitGate.delay), RequestResolver.batchN(200))

  const deadLetter = (item: DeadLetterItem) =>
    sql.withTransaction(Effect.gen(function*() {
      const m = item.message
      const fresh = yield* sql`
        INSERT INTO processed_messages (shop, message_id) VALUES (${m.shop}, ${m.messageId})
        ON CONFLICT DO NOTHING RETURNING 1 AS fresh`
      if (fresh.length === 0) return false
      yield* sql`
        INSERT INTO dead_letters (shop, message_id, message, error, attempts, permanent)
        VALUES (${m.shop}, ${m.messageId}, ${JSON.stringify(m)}::jsonb, ${item.error}, ${item.attempts}, ${item.permanent})`
      yield* sql`
        INSERT INTO shop_cursors (shop, last_seq) VALUES (${m.shop}, ${item.sequence})
        ON CONFLICT (shop) DO UPDATE SET last_seq = greatest(shop_cursors.last_seq, excluded.last_seq), updated_at = now()`
      yield* sql`DELETE FROM message_attempts WHERE shop = ${m.shop} AND message_id = ${m.messageId}`
      yield* store.append(`deadletters-${m.shop}`, m.shop, "any", [{
        type: "message.dead_lettered",
        data: {
          messageId: m.messageId,
          messageType: m.type,
          error: item.error,
          attempts: item.attempts,
          permanent: item.permanent,
          sequence: item.sequence
        } satisfies MessageDeadLettered
      }], item.metadata)
      return true
    }))

  const recordError = (m: ShopMessage, error: string) =>
    Effect.asVoid(sql`UPDATE message_attempts SET last_error = ${error} WHERE shop = ${m.shop} AND message_id = ${m.messageId}`)

  const dueTimers = (partitions: ReadonlyArray<number>, limit: number) =>
    sql<DueTimer>`
      SELECT id, message FROM scheduled_messages
       WHERE partition = ANY(${partitions}::int[]) AND due_at <= now()
       ORDER BY due_at LIMIT ${limit}`

  const deleteTimer = (id: string) => Effect.asVoid(sql`DELETE FROM scheduled_messages WHERE id = ${id}`)

  const nextTimerDueIn = (partitions: ReadonlyArray<number>) =>
    Effect.map(
      sql<{ ms: number | null }>`
        SELECT (extract(epoch FROM min(due_at) - now()) * 1000)::float8 AS ms FROM scheduled_messages
         WHERE partition = ANY(${partitions}::int[])`,
      (rows) => rows[0]?.ms ?? null
    )

  return ActorStore.of({
    deadLetter,
    recordError,
    dueTimers,
    deleteTimer,
    nextTimerDueIn,
    begin: (m, sequence, predecessor) =>
      Effect.request(new Begin({ shop: m.shop, messageId: m.messageId, sequence, predecessor }), beginResolver),
    // Sealed before batching, so a vault failure fails this item alone.
    commit: (item) =>
      Effect.gen(function*() {
        const appends = yield* Effect.forEach(item.appends, (a) =>
          Effect.map(sealing.seal(item.message.shop, a.events), (events): Append => ({ ...a, events })))
        return yield* Effect.request(new Commit({ item: { ...item, appends } }), commitResolver)
      })
  })
})

/** Needs the core (database, event store, sealing); `ShopActorRuntime.layer` needs this. */
export const layer = Layer.effect(ActorStore, make)
