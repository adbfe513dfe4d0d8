/**
 * EXPERIMENT for bench:pipeline (BENCH_EXPERIMENT=1), not production code: a copy of
 * adapters/embedded/EmbeddedShopLog.ts with two round-trip savings, plus a faster dedupe in
 * `append_events`, to measure what the recommended changes would buy:
 * 1. consume: after a page shorter than asked for (caught up), wait for a wake-up before the
 *    next SELECT instead of issuing one that finds nothing (one round trip less per wake-up);
 * 2. `append_events`: the event-id dedupe is a LATERAL … LIMIT 1 probe of the unique index
 *    instead of a NOT EXISTS anti-join, whose generic plan (cached per session by plpgsql, made
 *    while `events` was small) is a hash anti join over a scan of the whole table, kept as the
 *    table grows: 9 ms per append at 25k events;
 * 3. `append_events` without its `pg_notify('sumeru_events')`: a NOTIFY in a writing
 *    transaction holds PostgreSQL's global notify lock across the commit's WAL flush, so every
 *    apply_messages commit in the cluster serializes behind the previous one's fsync. (The fix
 *    proper would NOTIFY after the commit, in its own statement; nothing in this benchmark
 *    listens for it.)
 */
import { PgClient } from "@effect/sql-pg"
import { Deferred, Duration, Effect, Exit, Layer, Option, Queue, Request, RequestResolver, type Scope, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { DEFAULT_PARTITIONS, partitionOf } from "../../domain/shop/partition.ts"
import { makeSignal } from "../../src/eventstore/LogWakeups.ts"
import { type Delivery, type PublishAck, ShopLog, ShopLogUnavailable, type ShopMessage } from "../../src/shoplog/ShopLog.ts"
import { DatabaseMode } from "../../adapters/postgres/Database.ts"

export interface EmbeddedShopLogOptions {
  readonly partitions?: number
  /** Deliveries in flight (delivered, not acked) per partition: JetStream's max_ack_pending. */
  readonly maxInFlight?: number
  readonly batchSize?: number
}

class Ack extends Request.Class<{ readonly seq: number }, void, SqlError> {}
class Publish extends Request.Class<{ readonly message: ShopMessage }, PublishAck, SqlError> {}

const unavailable = (operation: string) => (cause: SqlError) => new ShopLogUnavailable({ operation, cause })

interface Row {
  seq: bigint | number
  partition: number
  message: ShopMessage
}

export const make = (options?: EmbeddedShopLogOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const mode = yield* DatabaseMode
    const partitions = options?.partitions ?? DEFAULT_PARTITIONS
    const maxInFlight = options?.maxInFlight ?? 512
    const batchSize = options?.batchSize ?? 256
    // One wake-up per partition: a publish wakes only its partition's consumer.
    const signals = Array.from({ length: partitions }, () => makeSignal())
    const signalOf = (partition: number) => signals[partition] ?? signals[0]!

    // Other processes publish too when the database is a shared PostgreSQL.
    if (mode.kind === "postgres") {
      const pg = yield* PgClient.PgClient
      const queue = yield* pg.listen("sumeru_shoplog")
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.take(queue), (n) => signalOf(Number(n.payload)).notify)).pipe(Effect.ignore)
      )
    }

    // Acks of concurrently finishing actors are deleted together: one round trip per batch.
    const ackResolver = RequestResolver.make<Ack>((entries) =>
      Effect.map(
        sql`DELETE FROM shop_log WHERE seq = ANY(${entries.map((e) => e.request.seq)}::bigint[])`,
        () => { for (const e of entries) e.completeUnsafe(Exit.void) }
      )
    ).pipe(RequestResolver.setDelay(Duration.millis(1)), RequestResolver.batchN(1000))

    /**
     * Publishes of concurrent callers (ingress requests) are inserted together: one
     * statement locks the batch's partitions (in order, so batches never deadlock), inserts
     * in request order, and skips ids still pending (dedupe). Commit = durable = resolved.
     */
    const publishResolver = RequestResolver.make<Publish>((entries) =>
      Effect.gen(function*() {
        const rows = entries.map((e) => {
          const m = e.request.message
          return { partition: partitionOf(m.shop, partitions), shop: m.shop, id: m.messageId, body: JSON.stringify({ ...m, publishedAt: m.publishedAt ?? new Date().toISOString() }) }
        })
        const touched = [...new Set(rows.map((r) => r.partition))].sort((a, b) => a - b)
        const inserted = yield* sql<{ seq: bigint; shop: string; message_id: string }>`
          WITH locks AS (
            SELECT count(pg_advisory_xact_lock(hashtext('sumeru.shoplog'), p)) AS n
              FROM (SELECT unnest(${touched}::int[]) AS p ORDER BY 1) ordered
          )
          INSERT INTO shop_log (partition, shop, message_id, message)
          SELECT i.partition, i.shop, i.message_id, i.message::jsonb
            FROM unnest(${rows.map((r) => r.partition)}::int[], ${rows.map((r) => r.shop)}::text[],
                        ${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.body)}::text[]) WITH ORDINALITY
                   AS i(partition, shop, message_id, message, ord), locks
           WHERE locks.n >= 0
           ORDER BY i.ord
          ON CONFLICT (shop, message_id) DO NOTHING
          RETURNING seq, shop, message_id`
        // Kept as its own statement on purpose: a NOTIFY inside a writing transaction takes
        // PostgreSQL's global notify lock and holds it across the commit's WAL flush, which
        // serializes every such commit in the cluster.
        if (mode.kind === "postgres" && inserted.length > 0) {
          yield* sql`SELECT pg_notify('sumeru_shoplog', p::text) FROM unnest(${touched}::int[]) AS p`
        }
        const fresh = new Map<string, number>(inserted.map((r) => [`${r.shop}\u0000${r.message_id}`, Number(r.seq)] as const))
        const missing = rows.filter((r) => !fresh.has(`${r.shop}\u0000${r.id}`))
        const existing = missing.length === 0 ? [] : yield* sql<{ seq: bigint; shop: string; message_id: string }>`
          SELECT seq, shop, message_id FROM shop_log
           WHERE (shop, message_id) IN (SELECT * FROM unnest(${missing.map((r) => r.shop)}::text[], ${missing.map((r) => r.id)}::text[]))`
        const old = new Map<string, number>(existing.map((r) => [`${r.shop}\u0000${r.message_id}`, Number(r.seq)] as const))
        const claimed = new Set<string>()
        entries.forEach((e, i) => {
          const key = `${rows[i]!.shop}\u0000${rows[i]!.id}`
          const seq = fresh.get(key)
          // the first request of an id inserted it; a repeat in the same batch is a duplicate
          const first = seq !== undefined && !claimed.has(key)
          claimed.add(key)
          e.completeUnsafe(Exit.succeed({ sequence: first ? seq : (seq ?? old.get(key) ?? 0), duplicate: !first, partition: rows[i]!.partition }))
        })
        if (mode.kind === "embedded") for (const p of touched) yield* signalOf(p).notify
      })
    ).pipe(RequestResolver.setDelay(Duration.millis(1)), RequestResolver.batchN(500))

    const publish = (message: ShopMessage) =>
      Effect.request(new Publish({ message }), publishResolver).pipe(Effect.mapError(unavailable("publish")))

    const consume = (partition: number) =>
      Effect.gen(function*() {
        const signal = signalOf(partition)
        // Deliveries handed out and not yet acked (JetStream's ack-pending count).
        let inFlight = 0
        const ackRow = (seq: number) => Effect.request(new Ack({ seq }), ackResolver).pipe(Effect.mapError(unavailable("ack")))
        const toDelivery = (row: Row): Delivery => {
          const seq = Number(row.seq)
          let acked = false
          return {
            message: row.message,
            partition,
            sequence: seq,
            deliveryCount: 1,
            working: Effect.void,
            ack: Effect.suspend(() => {
              if (acked) return Effect.void
              return Effect.tap(ackRow(seq), () =>
                Effect.suspend(() => {
                  acked = true
                  // only a full window has a consumer waiting for acks
                  return inFlight-- >= maxInFlight ? signal.notify : Effect.void
                }))
            })
          }
        }
        // Re-acquiring starts from 0: every unacked row is delivered again, in order.
        // Set after a short page: nothing more was committed when it was read, so the next read
        // waits for a wake-up taken before that read (a later commit completes it).
        let caughtUp: Deferred.Deferred<void> | undefined
        return Stream.paginate(0, (last: number) =>
          Effect.gen(function*() {
            for (;;) {
              if (caughtUp !== undefined) {
                const w = caughtUp
                caughtUp = undefined
                yield* Deferred.await(w).pipe(Effect.timeoutOption(Duration.millis(1000)))
              }
              const waiter = yield* signal.next
              const free = maxInFlight - inFlight
              if (free > 0) {
                const limit = Math.min(batchSize, free)
                const rows = yield* sql<Row>`
                  SELECT seq, partition, message FROM shop_log
                   WHERE partition = ${partition} AND seq > ${last}
                   ORDER BY seq LIMIT ${limit}`.pipe(Effect.mapError(unavailable("consume")))
                if (rows.length > 0) {
                  if (rows.length < limit) caughtUp = waiter
                  inFlight += rows.length
                  return [rows.map(toDelivery), Option.some(Number(rows[rows.length - 1]!.seq))] as const
                }
              }
              // Nothing to deliver (or the in-flight window is full): wait for a publish or
              // an ack; the timeout is only a safety net.
              yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.millis(free > 0 ? 1000 : 20)))
            }
          }))
      }) as Effect.Effect<Stream.Stream<Delivery, ShopLogUnavailable>, ShopLogUnavailable, Scope.Scope>

    const ping = sql`SELECT 1`.pipe(Effect.asVoid, Effect.mapError(unavailable("ping")))

    const pending = sql<{ partition: number; n: number }>`
      SELECT partition, count(*)::int AS n FROM shop_log GROUP BY partition`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.partition, r.n] as const))),
      Effect.mapError(unavailable("pending"))
    )

    return ShopLog.of({ partitions, publish, consume, ping, pending })
  })

export const layer = (options?: EmbeddedShopLogOptions) => Layer.effect(ShopLog, make(options))

/** `append_events` with the index-probing dedupe and no NOTIFY. */
const appendEventsFastDedupe = `
CREATE OR REPLACE FUNCTION append_events(
      p_stream text, p_shop text, p_expected_kind text, p_expected integer, p_events jsonb
    ) RETURNS TABLE (next_version integer, first_position bigint, last_position bigint, appended integer)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_current integer;
      v_owner   text;
      v_new     jsonb;
      v_count   integer;
      v_first   bigint;
      v_last    bigint;
    BEGIN
      PERFORM pg_current_xact_id();
      SELECT s.version, s.shop INTO v_current, v_owner FROM event_streams s WHERE s.stream_id = p_stream FOR UPDATE;
      IF v_owner IS NOT NULL AND v_owner <> p_shop THEN
        RAISE EXCEPTION 'stream % belongs to another shop', p_stream USING ERRCODE = 'SU002', DETAIL = v_owner;
      END IF;
      -- LATERAL … LIMIT 1: always a probe of the unique index. The anti-join form gets, in
      -- plpgsql's cached generic plan made while \`events\` was small, a hash anti join over a
      -- scan of the whole table, kept as the table grows (9 ms per append at 25k events).
      SELECT coalesce(jsonb_agg(t.e ORDER BY t.ord), '[]'::jsonb) INTO v_new
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, ord)
        LEFT JOIN LATERAL (SELECT 1 AS hit FROM events x WHERE x.event_id = (t.e->>'event_id')::uuid LIMIT 1) d ON true
       WHERE d.hit IS NULL;
      v_count := jsonb_array_length(v_new);
      IF v_count = 0 THEN
        RETURN QUERY SELECT coalesce(v_current, 0), NULL::bigint, NULL::bigint, 0;
        RETURN;
      END IF;
      IF v_current IS NULL THEN
        IF p_expected_kind = 'exact' AND p_expected <> 0 THEN
          RAISE EXCEPTION 'concurrency conflict on %', p_stream USING ERRCODE = 'SU001', DETAIL = '0';
        END IF;
        INSERT INTO event_streams (stream_id, shop, version) VALUES (p_stream, p_shop, v_count)
          ON CONFLICT (stream_id) DO NOTHING;
        IF FOUND THEN
          v_current := 0;
        ELSE
          -- another transaction created the stream meanwhile
          SELECT s.version, s.shop INTO v_current, v_owner FROM event_streams s WHERE s.stream_id = p_stream FOR UPDATE;
          IF v_owner <> p_shop THEN
            RAISE EXCEPTION 'stream % belongs to another shop', p_stream USING ERRCODE = 'SU002', DETAIL = v_owner;
          END IF;
          IF p_expected_kind <> 'any' THEN
            RAISE EXCEPTION 'concurrency conflict on %', p_stream USING ERRCODE = 'SU001', DETAIL = v_current::text;
          END IF;
          UPDATE event_streams SET version = v_current + v_count, updated_at = now() WHERE stream_id = p_stream;
        END IF;
      ELSE
        IF p_expected_kind = 'no_stream' OR (p_expected_kind = 'exact' AND p_expected <> v_current) THEN
          RAISE EXCEPTION 'concurrency conflict on %', p_stream USING ERRCODE = 'SU001', DETAIL = v_current::text;
        END IF;
        UPDATE event_streams SET version = v_current + v_count, updated_at = now() WHERE stream_id = p_stream;
      END IF;
      WITH ins AS (
        INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data,
                            correlation_id, causation_id, actor, occurred_at)
        SELECT (t.e->>'event_id')::uuid, p_shop, p_stream, v_current + t.ord::integer, t.e->>'type',
               (t.e->>'schema_version')::integer, t.e->'data', t.e->>'correlation_id', t.e->>'causation_id',
               t.e->'actor', (t.e->>'occurred_at')::timestamptz
          FROM jsonb_array_elements(v_new) WITH ORDINALITY AS t(e, ord)
         ORDER BY t.ord
        RETURNING position
      )
      SELECT min(ins.position), max(ins.position) INTO v_first, v_last FROM ins;
      RETURN QUERY SELECT v_current + v_count, v_first, v_last, v_count;
    END
    $fn$`

export interface ExperimentFlags {
  /** The dedupe as a LATERAL … LIMIT 1 index probe (else the production anti-join). */
  readonly dedupe: boolean
  /** No NOTIFY inside `append_events` (else the production `pg_notify('sumeru_events', '')`). */
  readonly noNotify: boolean
  /** The embedded log's consumer skips the empty re-read (else the production adapter). */
  readonly consume: boolean
}

/** BENCH_EXPERIMENT: `1`/`all`, or a comma list of `dedupe`, `nonotify`, `consume`; unset: none. */
export const experimentFlags = (raw: string | undefined): ExperimentFlags | undefined => {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "0") return undefined
  const all = raw.trim() === "1" || raw.trim() === "all"
  const set = new Set(raw.split(",").map((s) => s.trim().toLowerCase()))
  for (const f of set) {
    if (!all && !["dedupe", "nonotify", "consume"].includes(f)) throw new Error(`BENCH_EXPERIMENT: unknown flag ${JSON.stringify(f)}`)
  }
  return { dedupe: all || set.has("dedupe"), noNotify: all || set.has("nonotify"), consume: all || set.has("consume") }
}

export const describeFlags = (f: ExperimentFlags): string =>
  [f.dedupe ? "dedupe" : "", f.noNotify ? "nonotify" : "", f.consume ? "consume" : ""].filter((x) => x !== "").join("+")

const productionDedupe = `      SELECT coalesce(jsonb_agg(t.e ORDER BY t.ord), '[]'::jsonb) INTO v_new
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, ord)
       WHERE NOT EXISTS (SELECT 1 FROM events x WHERE x.event_id = (t.e->>'event_id')::uuid);
`

/** The `append_events` replacement for these flags (undefined: keep the production function). */
export const appendEventsSql = (f: ExperimentFlags): string | undefined => {
  if (!f.dedupe && !f.noNotify) return undefined
  let sql = appendEventsFastDedupe
  if (!f.dedupe) {
    const start = sql.indexOf("      -- LATERAL … LIMIT 1")
    const end = sql.indexOf("       WHERE d.hit IS NULL;\n") + "       WHERE d.hit IS NULL;\n".length
    sql = sql.slice(0, start) + productionDedupe + sql.slice(end)
  }
  if (!f.noNotify) {
    const ret = "      RETURN QUERY SELECT v_current + v_count, v_first, v_last, v_count;"
    sql = sql.replace(ret, "      PERFORM pg_notify('sumeru_events', '');\n" + ret)
  }
  return sql
}
