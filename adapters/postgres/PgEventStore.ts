/**
 * The event store on PostgreSQL (15+ and PGlite): appends committed in groups (`append_batch`,
 * migration 0018: the appends made while one group commits go together in the next, one
 * statement and one WAL flush for all), gap-safe global reads, upcasting on read, and fold
 * loads from a snapshot plus the tail.
 * The database refuses changes to stored events (migration 0014); this module only inserts.
 * Snapshot state is sealed under the shop's data key with the `PiiVault` (the same key the
 * store seals the shop's business events with), so it is unreadable once that key is shredded.
 */
import { Config, Context, Effect, Exit, Layer, Option, Request, RequestResolver, Schema, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Actor, AppendMetadata, ExpectedVersion, NewEvent, RecordedEvent } from "../../domain/events/Envelope.ts"
import { emptyUpcasters, type UpcasterRegistry } from "../../domain/events/Upcasting.ts"
import {
  ConcurrencyConflict,
  EventStore,
  type Fold,
  type Folded,
  InvalidAppend,
  type LoadFoldOptions,
  type LogRange,
  PersistenceError,
  type ReadRangeOptions,
  type Snapshot,
  StreamOwnershipViolation
} from "../../src/eventstore/EventStore.ts"
import { EventSealing } from "../../src/eventstore/EventSealing.ts"
import { PiiVault, Sealed, shopSubject } from "../../src/secrets/Secrets.ts"
import { findHorizon, type GapObservation, logBacklog } from "./GlobalLogReader.ts"
import { currentTraceparent, noStack } from "../../src/observability/TraceContext.ts"

/** The upcasters applied on read; the application provides its catalog's registry. */
export const EventUpcasters = Context.Reference<UpcasterRegistry>("sumeru/eventstore/EventUpcasters", {
  defaultValue: () => emptyUpcasters
})

/**
 * Hook run after each committed append, or group of appends (`PgLogWakeups` wakes the
 * readers with it: in-process, and with a coalesced NOTIFY on PostgreSQL).
 */
export const AfterAppend = Context.Reference<Effect.Effect<void>>("sumeru/eventstore/AfterAppend", {
  defaultValue: () => Effect.void
})

/**
 * Hook run in a caller's transaction after an append made inside it: on PostgreSQL a NOTIFY
 * that the commit delivers (sent at once, a reader would wake before the events are visible).
 */
export const InTransactionAppend = Context.Reference<Effect.Effect<void, SqlError>>("sumeru/eventstore/InTransactionAppend", {
  defaultValue: () => Effect.void
})

export interface EventRow {
  readonly position: bigint | number | string
  readonly event_id: string
  readonly shop: string
  readonly stream_id: string
  readonly stream_version: number
  readonly type: string
  readonly schema_version: number
  readonly data: unknown
  readonly correlation_id: string
  readonly causation_id: string | null
  readonly actor: Actor
  readonly occurred_at: Date
  readonly recorded_at: Date
  /** Set by {@link openRows}: the sealed payload's key is gone. */
  readonly redacted?: true
  /** Migration 0015; absent in rows selected before it. */
  readonly traceparent?: string | null
}

/** Opens the store-sealed payloads of fetched rows (see `EventSealing`). */
export const openRows = <R extends { readonly shop: string; readonly type: string; readonly data: unknown }>(
  sealing: EventSealing["Service"],
  rows: ReadonlyArray<R>
) =>
  Effect.forEach(rows, (row) =>
    Effect.map(sealing.open(row.shop, row.type, row.data), (opened): R & { readonly redacted?: true } =>
      opened.data === row.data ? row : opened.redacted ? { ...row, data: null, redacted: true } : { ...row, data: opened.data }))

export const toRecordedEvent = (upcasters: UpcasterRegistry) => (row: EventRow): RecordedEvent => {
  const up = row.redacted === true ? { version: row.schema_version, data: null } : upcasters.apply(row.type, row.schema_version, row.data)
  return {
    position: Number(row.position),
    eventId: row.event_id,
    shop: row.shop,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    type: row.type,
    schemaVersion: up.version,
    data: up.data,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    actor: row.actor,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    ...(row.redacted === true ? { redacted: true } : {}),
    ...(typeof row.traceparent === "string" ? { traceparent: row.traceparent } : {})
  }
}

const persistence = (operation: string) => (cause: SqlError) => new PersistenceError({ operation, cause })

const sqlState = (error: SqlError): { code?: string; detail?: string } => {
  const cause = error.reason.cause as { code?: string; detail?: string } | undefined
  return cause ?? {}
}

export interface RangeFilter {
  readonly shop?: string | null | undefined
  readonly types?: ReadonlyArray<string> | null | undefined
  readonly since?: Date | null | undefined
  readonly until?: Date | null | undefined
}

/**
 * Events with `after < position <= upTo` in position order, at most `limit`. Callers must
 * take `upTo` from `findHorizon`, never from `max(position)`.
 */
export const fetchRange = (sql: SqlClient.SqlClient, after: number, upTo: number, limit: number, filter?: RangeFilter) => {
  const shop = filter?.shop ?? null
  const types = filter?.types && filter.types.length > 0 ? filter.types : null
  const since = filter?.since ?? null
  const until = filter?.until ?? null
  return sql<EventRow>`
    SELECT * FROM events
     WHERE position > ${after} AND position <= ${upTo}
       AND (${shop}::text IS NULL OR shop = ${shop}::text)
       AND (${types === null}::boolean OR type = ANY(${types ?? []}::text[]))
       AND (${since}::timestamptz IS NULL OR occurred_at >= ${since}::timestamptz)
       AND (${until}::timestamptz IS NULL OR occurred_at <= ${until}::timestamptz)
     ORDER BY position LIMIT ${limit}`
}

/** The JSON `append_events` takes for a list of new events (ids and times filled in). */
export const toAppendPayload = (events: ReadonlyArray<NewEvent>, metadata: AppendMetadata) => {
  const now = new Date().toISOString()
  return events.map((e) => ({
    event_id: e.eventId ?? uuidV7Unsafe(),
    type: e.type,
    schema_version: e.schemaVersion ?? 1,
    data: e.data ?? null,
    correlation_id: metadata.correlationId,
    causation_id: metadata.causationId ?? null,
    actor: metadata.actor,
    occurred_at: e.occurredAt?.toISOString() ?? now,
    traceparent: metadata.traceparent ?? null
  }))
}

/** `append_events`' expectation arguments for an `ExpectedVersion`. */
export const expectedArgs = (expected: ExpectedVersion): readonly ["any" | "no_stream" | "exact", number] =>
  expected === "any" ? ["any", 0] : expected === "no_stream" || expected === 0 ? ["no_stream", 0] : ["exact", expected]

/** Stream versions are `integer`s. */
const MAX_VERSION = 2_147_483_647
/** Events per page when a stream is read. */
const READ_PAGE = 1000

/** Default of `SNAPSHOT_EVERY`. */
export const DEFAULT_SNAPSHOT_EVERY = 100

/**
 * `SNAPSHOT_EVERY`: a fold load that reads at least this many events after its snapshot
 * (or from the start) writes a new snapshot; 0 turns snapshot writing off (existing
 * snapshots are still used). A malformed value stops the process at start.
 */
const snapshotEveryConfig = Config.Int("SNAPSHOT_EVERY").pipe(
  Config.withDefault(DEFAULT_SNAPSHOT_EVERY),
  Effect.flatMap((n) => n >= 0 ? Effect.succeed(n) : Effect.die(new Error(`SNAPSHOT_EVERY must be 0 or more, got ${n}`))),
  Effect.orDie
)

interface SnapshotRow {
  readonly shop: string
  readonly schema_version: number
  readonly stream_version: number
  readonly state: unknown
}

const isSealed = Schema.is(Sealed)
const isShopSealed = (value: unknown): value is Sealed => isSealed(value) && value.subject === shopSubject

/** An append refused for its expected version, as the single and the group path report it. */
const conflictOf = (streamId: string, expected: ExpectedVersion, actual: number) =>
  new ConcurrencyConflict({ streamId, expected: String(expected), actual })

/** An append refused because the stream is another shop's. */
const ownedElsewhere = (streamId: string, shop: string, owner: string) =>
  new StreamOwnershipViolation({ streamId, owner, attemptedBy: shop })

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

interface AppendResult {
  readonly nextVersion: number
  readonly firstPosition: number | null
  readonly lastPosition: number | null
  readonly appended: number
}

type AppendFailure = ConcurrencyConflict | StreamOwnershipViolation | PersistenceError

/** One validated append waiting for its group (see `append_batch`). */
class GroupedAppend extends Request.Class<{
  readonly streamId: string
  readonly shop: string
  readonly expected: ExpectedVersion
  readonly payload: ReturnType<typeof toAppendPayload>
}, AppendResult, AppendFailure> {}

/** A row of `append_batch`, one per append in the order sent. */
interface BatchRow {
  readonly o_status: "ok" | "conflict" | "owner"
  readonly o_next_version: number | null
  readonly o_first: bigint | string | null
  readonly o_last: bigint | string | null
  readonly o_appended: number
  readonly o_detail: string | null
}

/** At most this many appends commit together (a bound on one statement's JSON). */
const GROUP_MAX = 200

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const upcasters = yield* EventUpcasters
  const afterAppend = yield* AfterAppend
  const inTransactionAppend = yield* InTransactionAppend
  const sealing = yield* EventSealing
  const vault = yield* PiiVault
  const snapshotEvery = yield* snapshotEveryConfig
  const decode = toRecordedEvent(upcasters)
  const decodeAll = (rows: ReadonlyArray<EventRow>) => Effect.map(openRows(sealing, rows), (opened) => opened.map(decode))

  /** One append through `append_events`, its custom SQLSTATEs mapped to typed errors. */
  const appendAlone = (
    streamId: string,
    shop: string,
    expected: ExpectedVersion,
    payload: ReturnType<typeof toAppendPayload>
  ): Effect.Effect<AppendResult, AppendFailure> => {
    const [kind, version] = expectedArgs(expected)
    return sql<{
      next_version: number
      first_position: bigint | null
      last_position: bigint | null
      appended: number
    }>`SELECT * FROM append_events(${streamId}, ${shop}, ${kind}, ${version}, ${JSON.stringify(payload)}::jsonb)`.pipe(
      Effect.map((rows) => {
        const row = rows[0]!
        return {
          nextVersion: row.next_version,
          firstPosition: row.first_position === null ? null : Number(row.first_position),
          lastPosition: row.last_position === null ? null : Number(row.last_position),
          appended: row.appended
        }
      }),
      Effect.catchTag("SqlError", (error): Effect.Effect<never, AppendFailure> => {
        const { code, detail } = sqlState(error)
        if (code === "SU001") return Effect.fail(conflictOf(streamId, expected, Number(detail ?? 0)))
        if (code === "SU002") return Effect.fail(ownedElsewhere(streamId, shop, detail ?? ""))
        // Two first appends racing on a brand-new stream, or the same event id appended
        // concurrently: the loser saw no row yet; report it as the conflict it is.
        if (error.reason._tag === "UniqueViolation") return Effect.fail(conflictOf(streamId, expected, -1))
        return Effect.fail(persistence("append")(error))
      })
    )
  }

  const answer = (request: GroupedAppend, row: BatchRow): Exit.Exit<AppendResult, AppendFailure> => {
    const { streamId, shop, expected } = request
    switch (row.o_status) {
      case "conflict":
        return Exit.fail(conflictOf(streamId, expected, Number(row.o_detail ?? 0)))
      case "owner":
        return Exit.fail(ownedElsewhere(streamId, shop, row.o_detail ?? ""))
      default:
        return Exit.succeed({
          nextVersion: row.o_next_version ?? 0,
          firstPosition: row.o_first === null ? null : Number(row.o_first),
          lastPosition: row.o_last === null ? null : Number(row.o_last),
          appended: row.o_appended
        })
    }
  }

  /**
   * Group commit: the appends made while a group commits form the next group (the resolver
   * collects what arrives before the fiber yields; writers answered by one group come back
   * together). A group that fails as a whole — something `append_batch` does not answer per
   * append, or a lost connection — is run again one append at a time, each answered exactly;
   * appends that did commit are found by their event ids and not written twice.
   */
  const groupResolver = RequestResolver.make<GroupedAppend>((entries) =>
    Effect.gen(function*() {
      // sorted by stream (stably: one stream's appends keep their order), so every group locks
      // stream rows in the same order
      const sorted = entries.map((entry, i) => ({ entry, i })).sort((x, y) =>
        x.entry.request.streamId < y.entry.request.streamId ? -1 : x.entry.request.streamId > y.entry.request.streamId ? 1 : x.i - y.i
      ).map((x) => x.entry)
      const kinds: Array<string> = []
      const versions: Array<number> = []
      const ids: Array<string> = []
      // per append: its events without the metadata they share, which is sent once beside them
      const lists: Array<ReadonlyArray<unknown>> = []
      for (const entry of sorted) {
        const [kind, version] = expectedArgs(entry.request.expected)
        kinds.push(kind)
        versions.push(version)
        lists.push(entry.request.payload.map((e) => {
          ids.push(e.event_id)
          return { event_id: e.event_id, type: e.type, schema_version: e.schema_version, data: e.data, occurred_at: e.occurred_at }
        }))
      }
      // toAppendPayload gives every event of an append the same metadata: its first event's is the append's
      const meta = sorted.map(({ request: { payload: [e] } }) => ({
        correlation_id: e!.correlation_id,
        causation_id: e!.causation_id,
        actor: e!.actor,
        traceparent: e!.traceparent
      }))
      const group = yield* Effect.result(sql<BatchRow>`
        SELECT * FROM append_batch(${sorted.map((e) => e.request.streamId)}::text[], ${sorted.map((e) => e.request.shop)}::text[],
                                   ${kinds}::text[], ${versions}::int[], ${sorted.map((e) => e.request.payload.length)}::int[],
                                   ${JSON.stringify(meta)}::jsonb, ${ids}::uuid[], ${JSON.stringify(lists)}::jsonb)`)
      let appended = false
      if (group._tag === "Success") {
        group.success.forEach((row, i) => {
          if (row.o_appended > 0) appended = true
          sorted[i]!.completeUnsafe(answer(sorted[i]!.request, row))
        })
      } else {
        // a group refused for a race it does not answer itself (SQLSTATE 23505 or SU005) is
        // expected now and then; anything else would hide a fault behind the slower path
        const { code } = sqlState(group.failure)
        if (code !== "23505" && code !== "SU005") {
          yield* Effect.logWarning(`a group of ${sorted.length} appends failed; appending them one by one`, group.failure)
        }
        yield* Effect.forEach(sorted, (entry) =>
          Effect.exit(appendAlone(entry.request.streamId, entry.request.shop, entry.request.expected, entry.request.payload)).pipe(
            Effect.map((exit) => {
              if (Exit.isSuccess(exit) && exit.value.appended > 0) appended = true
              entry.completeUnsafe(exit)
            })
          ), { discard: true })
      }
      if (appended) yield* afterAppend
    })
  ).pipe(RequestResolver.batchN(GROUP_MAX))

  // a span without a call-site stack (Effect.fn would build an Error per append)
  const append = (
    streamId: string,
    shop: string,
    expected: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
    metadata: AppendMetadata
  ) => Effect.gen(function*() {
    if (events.length === 0) return yield* new InvalidAppend({ streamId, message: "no events to append" })
    if (streamId.length === 0 || shop.length === 0) {
      return yield* new InvalidAppend({ streamId, message: "stream id and shop are required" })
    }
    const traceparent = metadata.traceparent ?? (yield* currentTraceparent)
    const payload = toAppendPayload(yield* sealing.seal(shop, events), { ...metadata, traceparent })
    for (const p of payload) {
      if (!UUID.test(p.event_id)) return yield* new InvalidAppend({ streamId, message: `event id ${p.event_id} is not a UUID` })
      if (p.type.length === 0) return yield* new InvalidAppend({ streamId, message: "event type is required" })
    }
    // Inside a caller's transaction the append is part of that transaction: it runs on its
    // connection, and the wake-up goes with it, delivered at its commit.
    if (Option.isSome(yield* Effect.serviceOption(sql.transactionService))) {
      const result = yield* appendAlone(streamId, shop, expected, payload)
      if (result.appended > 0) yield* inTransactionAppend.pipe(Effect.mapError(persistence("append")))
      return result
    }
    return yield* Effect.request(new GroupedAppend({ streamId, shop, expected, payload }), groupResolver)
  }).pipe(Effect.withSpan("EventStore.append", undefined, noStack))

  const readStream = (
    streamId: string,
    options?: { readonly from?: number | undefined; readonly to?: number | undefined; readonly until?: Date | undefined }
  ): Stream.Stream<RecordedEvent, PersistenceError> => {
    const batch = READ_PAGE
    const to = options?.to ?? MAX_VERSION
    const until = options?.until ?? null
    return Stream.paginate(options?.from ?? 1, (from: number) =>
      sql<EventRow>`
        SELECT * FROM events
         WHERE stream_id = ${streamId} AND stream_version >= ${from} AND stream_version <= ${to}
           AND (${until}::timestamptz IS NULL OR occurred_at <= ${until}::timestamptz)
         ORDER BY stream_version LIMIT ${batch}`.pipe(
        Effect.mapError(persistence("readStream")),
        Effect.flatMap((rows) =>
          Effect.map(decodeAll(rows), (events) =>
            [
              events,
              rows.length < batch ? Option.none<number>() : Option.some(rows[rows.length - 1]!.stream_version + 1)
            ] as const)
        )
      ))
  }

  const readAll = (options?: {
    readonly after?: number | undefined
    readonly limit?: number | undefined
    readonly shop?: string | undefined
    readonly types?: ReadonlyArray<string> | undefined
    readonly since?: Date | undefined
    readonly until?: Date | undefined
    readonly batchSize?: number | undefined
  }): Stream.Stream<RecordedEvent, PersistenceError> => {
    const batchSize = options?.batchSize ?? 1000
    interface State {
      readonly after: number
      readonly gap: GapObservation | null
      readonly remaining: number
    }
    const initial: State = { after: options?.after ?? 0, gap: null, remaining: options?.limit ?? Number.POSITIVE_INFINITY }
    return Stream.paginate(initial, (state: State) =>
      Effect.gen(function*() {
        if (state.remaining <= 0) return [[], Option.none<State>()] as const
        const horizon = yield* findHorizon(sql, state.after, batchSize, state.gap)
        if (horizon.safeUpTo <= state.after) return [[], Option.none<State>()] as const
        const limit = Math.min(batchSize, state.remaining)
        const rows = yield* fetchRange(sql, state.after, horizon.safeUpTo, limit, options)
        // A full page may stop before the horizon: continue from its last row.
        const next = rows.length === limit ? Number(rows[rows.length - 1]!.position) : horizon.safeUpTo
        return [
          yield* decodeAll(rows),
          Option.some<State>({ after: next, gap: horizon.gap, remaining: state.remaining - rows.length })
        ] as const
      }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(persistence("readAll")(e)))))
  }

  const readRange = (after: number, options: ReadRangeOptions): Effect.Effect<LogRange, PersistenceError> =>
    Effect.gen(function*() {
      const horizon = yield* findHorizon(sql, after, options.limit, options.gap ?? null)
      if (horizon.safeUpTo <= after) {
        return { events: [], upTo: after, safeUpTo: horizon.safeUpTo, blocked: horizon.blocked, gap: horizon.gap }
      }
      const rows = yield* fetchRange(sql, after, horizon.safeUpTo, options.limit, { types: options.types })
      // A full page may stop before the horizon: the range ends at its last row.
      const upTo = rows.length === options.limit ? Number(rows[rows.length - 1]!.position) : horizon.safeUpTo
      return { events: yield* decodeAll(rows), upTo, safeUpTo: horizon.safeUpTo, blocked: horizon.blocked, gap: horizon.gap }
    }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(persistence("readRange")(e))))

  const backlog = (safePosition: number) => logBacklog(sql, safePosition).pipe(Effect.mapError(persistence("backlog")))

  const streamInfo = (streamId: string) =>
    sql<{ version: number; shop: string }>`SELECT version, shop FROM event_streams WHERE stream_id = ${streamId}`.pipe(
      Effect.map((rows) => rows[0] ?? null),
      Effect.mapError(persistence("streamInfo"))
    )

  const head = Effect.gen(function*() {
    const rows = yield* sql<{ max: bigint | null; oldest: number | null }>`
      SELECT (SELECT max(position) FROM events) AS max,
             (SELECT extract(epoch FROM now() - min(xact_start))::float8 FROM pg_stat_activity
               WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                 AND datname = current_database()) AS oldest`
    const max = Number(rows[0]?.max ?? 0)
    // Walk forward from the highest fully committed prefix we can prove.
    let after = Math.max(0, max - 10_000)
    let safe = after
    for (;;) {
      const h = yield* findHorizon(sql, after, 10_000, null)
      safe = h.safeUpTo
      if (h.blocked || h.safeUpTo === after) break
      after = h.safeUpTo
    }
    return { safePosition: safe, maxPosition: max, oldestOpenTransactionSeconds: rows[0]?.oldest ?? null }
  }).pipe(Effect.mapError(persistence("head")))

  const saveSnapshot = <S>(snapshot: Snapshot<S>, schema: Schema.Codec<S, unknown>) =>
    Effect.gen(function*() {
      const encoded = yield* Schema.encodeEffect(schema)(snapshot.state)
      const sealed = yield* vault.seal(snapshot.shop, shopSubject, encoded)
      yield* sql`
        INSERT INTO snapshots (stream_id, fold, shop, schema_version, stream_version, state)
        VALUES (${snapshot.streamId}, ${snapshot.fold}, ${snapshot.shop}, ${snapshot.schemaVersion},
                ${snapshot.streamVersion}, ${JSON.stringify(sealed)}::jsonb)
        ON CONFLICT (stream_id, fold) DO UPDATE
          SET shop = excluded.shop, schema_version = excluded.schema_version,
              stream_version = excluded.stream_version, state = excluded.state, created_at = now()
          WHERE snapshots.shop = excluded.shop
            AND (snapshots.schema_version <> excluded.schema_version OR snapshots.stream_version <= excluded.stream_version)`
    }).pipe(
      Effect.mapError((cause) => new PersistenceError({ operation: "saveSnapshot", cause })),
      Effect.withSpan("EventStore.saveSnapshot")
    )

  const loadSnapshot = <S>(
    streamId: string,
    fold: { readonly name: string; readonly version: number; readonly schema: Schema.Codec<S, unknown> },
    options?: { readonly to?: number | undefined }
  ): Effect.Effect<Snapshot<S> | null, PersistenceError> =>
    Effect.gen(function*() {
      const to = options?.to ?? MAX_VERSION
      const rows = yield* sql<SnapshotRow>`
        SELECT shop, schema_version, stream_version, state FROM snapshots
         WHERE stream_id = ${streamId} AND fold = ${fold.name} AND schema_version = ${fold.version}
           AND stream_version <= ${to}`.pipe(Effect.mapError(persistence("loadSnapshot")))
      return rows[0] === undefined ? null : yield* openSnapshot(streamId, fold, rows[0])
    }).pipe(Effect.withSpan("EventStore.loadSnapshot"))

  /** A stored snapshot row as a `Snapshot`; null (logged) when its state cannot be opened and decoded. */
  const openSnapshot = <S>(streamId: string, fold: { readonly name: string; readonly schema: Schema.Codec<S, unknown> }, row: SnapshotRow) =>
    Effect.map(openSnapshotState(row, fold.schema), Option.match({
      onNone: (): Snapshot<S> | null => null,
      onSome: (state): Snapshot<S> | null => ({
        streamId,
        fold: fold.name,
        shop: row.shop,
        schemaVersion: row.schema_version,
        streamVersion: row.stream_version,
        state
      })
    }))

  /** The sealed state opened and decoded; None (logged) when it cannot be: the snapshot is then ignored. */
  const openSnapshotState = <S>(row: SnapshotRow, schema: Schema.Codec<S, unknown>): Effect.Effect<Option.Option<S>> => {
    if (!isShopSealed(row.state)) {
      return Effect.as(Effect.logWarning(`a snapshot of ${row.shop} is not sealed; ignored`), Option.none())
    }
    return vault.open(row.shop, row.state).pipe(
      Effect.flatMap(Option.match({
        // the shop's key was shredded (shop/redact): the snapshot is unreadable, as its events are
        onNone: () => Effect.as(Effect.logDebug(`a snapshot of ${row.shop} no longer opens (key shredded); ignored`), Option.none<S>()),
        onSome: (opened) => Effect.map(Schema.decodeUnknownEffect(schema)(opened), Option.some)
      })),
      // only the error's tag: a decoding error's message could quote the (sealed) state
      Effect.catch((error) => Effect.as(Effect.logWarning(`a snapshot of ${row.shop} is unreadable (${error._tag}); ignored`), Option.none<S>()))
    )
  }

  /**
   * A fold's snapshot and the first page of its stream after it, in one statement: actors load
   * folds on their hot path (a shop's rules on every trigger), where a round trip costs more than
   * the query. The snapshot's columns ride on the first row only (a state is not repeated per
   * event); a stream without events after the snapshot still gives one row.
   */
  const snapshotAndTail = <S>(streamId: string, fold: Fold<S>, to: number) =>
    sql<EventRow & { readonly snap_shop: string | null; readonly snap_schema_version: number | null; readonly snap_stream_version: number | null; readonly snap_state: unknown }>`
      SELECT s.shop AS snap_shop, s.schema_version AS snap_schema_version, s.stream_version AS snap_stream_version,
             CASE WHEN e.stream_version IS NULL OR e.stream_version = min(e.stream_version) OVER () THEN s.state END AS snap_state,
             e.*
        FROM (SELECT 1) one
        LEFT JOIN LATERAL (
          SELECT shop, schema_version, stream_version, state FROM snapshots
           WHERE stream_id = ${streamId} AND fold = ${fold.name} AND schema_version = ${fold.version} AND stream_version <= ${to}) s ON true
        LEFT JOIN LATERAL (
          SELECT * FROM events
           WHERE stream_id = ${streamId} AND stream_version > coalesce(s.stream_version, 0) AND stream_version <= ${to}
           ORDER BY stream_version LIMIT ${READ_PAGE}) e ON true
       ORDER BY e.stream_version`.pipe(Effect.mapError(persistence("loadFold")))

  const loadFold = <S>(streamId: string, fold: Fold<S>, options?: LoadFoldOptions): Effect.Effect<Folded<S>, PersistenceError> =>
    Effect.gen(function*() {
      const useSnapshots = options?.until === undefined
      let snapshot: Snapshot<S> | null = null
      let firstPage: ReadonlyArray<RecordedEvent> = []
      // whether events after the first page (or, without a usable snapshot, all of them) are still to be read
      let readMore = true
      if (useSnapshots) {
        const rows = yield* snapshotAndTail(streamId, fold, options?.to ?? MAX_VERSION)
        const first = rows[0]!
        const stored = first.snap_shop === null ? null : yield* openSnapshot(streamId, fold, {
          shop: first.snap_shop,
          schema_version: first.snap_schema_version!,
          stream_version: first.snap_stream_version!,
          state: first.snap_state
        })
        // a snapshot is an optimisation: when it cannot be read, fold from the start (the page read after it is of no use)
        if (first.snap_shop === null || stored !== null) {
          snapshot = stored
          const events = rows.filter((r) => r.event_id !== null)
          firstPage = yield* decodeAll(events)
          readMore = events.length === READ_PAGE
        }
      }
      let state = snapshot === null ? fold.initial() : snapshot.state
      let version = snapshot === null ? 0 : snapshot.streamVersion
      let shop = snapshot === null ? null : snapshot.shop
      let tailEvents = 0
      const evolve = (event: RecordedEvent) => {
        state = fold.evolve(state, event)
        version = event.streamVersion
        shop = event.shop
        tailEvents++
      }
      for (const event of firstPage) evolve(event)
      if (readMore) {
        yield* Stream.runForEach(readStream(streamId, { from: version + 1, to: options?.to, until: options?.until }), (event) =>
          Effect.sync(() => evolve(event)))
      }
      if (useSnapshots && snapshotEvery > 0 && tailEvents >= snapshotEvery && shop !== null) {
        const taken: Snapshot<S> = { streamId, fold: fold.name, shop, schemaVersion: fold.version, streamVersion: version, state }
        // Best effort, and in its own (sub)transaction: a failure inside a caller's transaction
        // rolls back to a savepoint instead of aborting the caller's work.
        yield* sql.withTransaction(saveSnapshot(taken, fold.schema)).pipe(
          Effect.catchCause((cause) => Effect.logWarning(`snapshot of ${streamId} at version ${version} not written`, cause))
        )
      }
      return { state, version, snapshotVersion: snapshot === null ? null : snapshot.streamVersion, tailEvents }
    }).pipe(Effect.withSpan("EventStore.loadFold", { attributes: { streamId, fold: fold.name } }, noStack))

  return EventStore.of({
    append,
    readStream,
    readAll,
    readRange,
    streamInfo,
    head,
    backlog,
    loadFold,
    snapshotEvery,
    saveSnapshot,
    loadSnapshot
  })
})

export const layer = Layer.effect(EventStore, make)
