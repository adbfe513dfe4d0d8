/**
 * The chaos suite's verdict, reached only through what an operator could look at: the
 * JetStream stream, the event store and the read models of the cluster's database.
 *
 * 1. The shop log drains: the stream holds no message (bounded wait). On a WorkQueue stream
 *    an acked message is deleted, and a worker acks only after its events are committed, so
 *    once it is empty every event that will ever be written is written.
 * 2. Every delivery answered 200 is recorded exactly once: one `order.created` event on
 *    `order-<shop>-<order id>` (the events are sealed, so they are identified by stream id and
 *    type, not by payload); none recorded twice.
 * 3. Per-shop order: a shop's `order.created` events have increasing global positions in the
 *    order its webhooks were sent (each was sent only after the previous one was accepted).
 * 4. Every read model caught up (bounded wait): every projection has a live generation whose
 *    checkpoint reached the head of the log, none is rebuilding, and `shopify_orders` holds
 *    every recorded order.
 *
 * Any failure is reported with what is needed to chase it: the deliveries concerned (shop,
 * order id, event id, when it was accepted), what the database knows of each message (dedupe
 * row, attempts, dead letter, the shop's sequence fence), what the NATS tap saw (stream
 * sequence, deliveries, acks), the consumers' state, the fault timeline, and log excerpts.
 */
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { partitionOf } from "../../../domain/shop/partition.ts"
import { allProjections } from "../../../projections/index.ts"
import { type Cluster, waitFor } from "./cluster.ts"
import type { DeliveryResult, LoadReport } from "./load.ts"
import type { Tap } from "./tap.ts"

/** What happened when, in ms since the load started (faults, restarts, phases). */
export interface Timeline {
  readonly note: (what: string) => void
  readonly entries: () => ReadonlyArray<string>
  readonly since: () => number
}

export const makeTimeline = (): Timeline => {
  const start = Date.now()
  const entries: Array<string> = []
  return {
    note: (what) => void entries.push(`+${((Date.now() - start) / 1000).toFixed(1)}s ${what}`),
    entries: () => entries,
    since: () => Date.now() - start
  }
}

export interface VerifyOptions {
  readonly scenario: string
  readonly cluster: Cluster
  readonly load: LoadReport
  readonly tap: Tap
  readonly timeline: Timeline
  /** Bound on each wait (drain, projections). */
  readonly timeoutMs: number
}

interface OrderEventRow {
  readonly position: string
  readonly stream_id: string
  /** The worker whose actor committed it (the event's actor id) and when. */
  readonly applied_by: string | null
  readonly recorded_at: Date
}

interface GenerationRow {
  readonly name: string
  readonly generation: number
  readonly version: number
  readonly status: string
  readonly position: string
  readonly updated_at: Date
}

const messageIdOf = (d: { readonly eventId: string }) => `webhook:orders/create:${d.eventId}`
const streamIdOf = (d: { readonly shop: string; readonly orderId: string }) => `order-${d.shop}-${d.orderId}`

const withSql = <A, E>(databaseUrl: string, effect: Effect.Effect<A, E, SqlClient.SqlClient>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 2 })))

const streamMessages = async (jsm: JetStreamManager, stream: string): Promise<number | undefined> =>
  jsm.streams.info(stream).then((si) => si.state.messages, () => undefined)

/**
 * The stream's consumers: those with pending, unacked or redelivered messages, and those of
 * the `focus` subjects (the partitions of the deliveries in question) whatever their state.
 */
const consumerSummary = async (jsm: JetStreamManager, stream: string, focus: ReadonlySet<string> = new Set()): Promise<string> => {
  try {
    const all: Array<ConsumerInfo> = []
    for await (const ci of jsm.consumers.list(stream)) all.push(ci)
    const busy = all.filter((c) => c.num_pending > 0 || c.num_ack_pending > 0 || c.num_redelivered > 0)
    const shown = all.filter((c) => busy.includes(c) || focus.has(c.config.filter_subject ?? ""))
    const lines = shown.map((c) =>
      `    ${c.name}: pending ${c.num_pending}, ack-pending ${c.num_ack_pending}, redelivered ${c.num_redelivered}, ` +
      `delivered stream seq ${c.delivered.stream_seq}, ack floor stream seq ${c.ack_floor.stream_seq}, ` +
      `waiting pulls ${c.num_waiting}, created ${c.created}`
    )
    return `consumers of the shop log: ${all.length}, ${busy.length} with pending, unacked or redelivered messages${lines.length > 0 ? "\n" : ""}${lines.join("\n")}`
  } catch (e) {
    return `consumers of the shop log: could not list them (${String(e)})`
  }
}

/** Everything the database holds about the given messages, for the diagnostic. */
const messageFacts = (databaseUrl: string, deliveries: ReadonlyArray<DeliveryResult>) =>
  withSql(databaseUrl, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const shops = [...new Set(deliveries.map((d) => d.shop))]
    const ids = deliveries.map(messageIdOf)
    const processed = yield* sql<{ shop: string; message_id: string; processed_at: Date }>`
      SELECT shop, message_id, processed_at FROM processed_messages WHERE message_id = ANY(${ids}::text[])`
    const attempts = yield* sql<{ shop: string; message_id: string; attempts: number; last_error: string | null }>`
      SELECT shop, message_id, attempts, last_error FROM message_attempts WHERE message_id = ANY(${ids}::text[])`
    const dead = yield* sql<{ shop: string; message_id: string; error: string; attempts: number }>`
      SELECT shop, message_id, error, attempts FROM dead_letters WHERE message_id = ANY(${ids}::text[])`
    const cursors = yield* sql<{ shop: string; last_seq: string }>`
      SELECT shop, last_seq::text FROM shop_cursors WHERE shop = ANY(${shops}::text[])`
    return (d: DeliveryResult): string => {
      const id = messageIdOf(d)
      const p = processed.find((r) => r.shop === d.shop && r.message_id === id)
      const a = attempts.find((r) => r.shop === d.shop && r.message_id === id)
      const x = dead.find((r) => r.shop === d.shop && r.message_id === id)
      const c = cursors.find((r) => r.shop === d.shop)
      return [
        `dedupe row ${p ? `yes (${p.processed_at.toISOString()})` : "no"}`,
        `attempts ${a ? `${a.attempts}${a.last_error ? ` (last error: ${a.last_error})` : ""}` : "none recorded"}`,
        `dead letter ${x ? `yes: ${x.error} after ${x.attempts}` : "no"}`,
        `shop fence last_seq ${c?.last_seq ?? "none"}`
      ].join("; ")
    }
  }))

const describeDelivery = (d: DeliveryResult, startedAt: number) => {
  const when = d.outcome._tag === "accepted" ? `accepted at +${((d.outcome.at - startedAt) / 1000).toFixed(1)}s after ${d.outcome.attempts} attempt(s)` : d.outcome._tag
  return `${d.shop} order ${d.orderId} (sent #${d.sendIndex}, event ${d.eventId}, ${when})`
}

/** Runs every check; resolves with the problems found ([] when all hold). */
export const verify = async (options: VerifyOptions): Promise<ReadonlyArray<string>> => {
  const { cluster, load, tap, timeline } = options
  const problems: Array<string> = []

  // 0. The load itself: every delivery must have been accepted in the end.
  const notAccepted = load.results.filter((r) => r.outcome._tag !== "accepted")
  if (notAccepted.length > 0) {
    problems.push(
      `${notAccepted.length} deliveries were never accepted by the ingress:\n` +
        notAccepted.slice(0, 20).map((r) => `    ${describeDelivery(r, load.startedAt)}: ${JSON.stringify(r.outcome)}`).join("\n")
    )
  }

  // 1. The shop log drains.
  const nc = await connect({ servers: cluster.natsUrl, name: "chaos-verify", reconnect: true, maxReconnectAttempts: -1 })
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 })
    const drained = await waitFor(async () => ((await streamMessages(jsm, cluster.streamName)) === 0 ? true : undefined),
      "the shop log to drain", options.timeoutMs, 250).catch(() => false)
    timeline.note(drained ? "shop log drained" : "shop log NOT drained")
    if (!drained) {
      problems.push(`the shop log did not drain within ${options.timeoutMs / 1000}s: ${await streamMessages(jsm, cluster.streamName)} messages left`)
    }

    // 2 + 3. Exactly once, in per-shop order.
    const { events, head } = await withSql(cluster.databaseUrl, Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const events = yield* sql<OrderEventRow>`
        SELECT position::text, stream_id, actor->>'id' AS applied_by, recorded_at FROM events WHERE type = 'order.created' ORDER BY position`
      const head = Number((yield* sql<{ head: string }>`SELECT coalesce(max(position), 0)::text AS head FROM events`)[0]!.head)
      return { events, head }
    }))
    const positions = new Map<string, Array<number>>()
    for (const e of events) positions.set(e.stream_id, [...(positions.get(e.stream_id) ?? []), Number(e.position)])
    const appliedBy = new Map(events.map((e) => [e.stream_id, `${e.applied_by ?? "?"} at ${new Date(e.recorded_at).toISOString()}`] as const))
    const planned = new Set(load.results.map(streamIdOf))
    const missing = load.accepted.filter((d) => !positions.has(streamIdOf(d)))
    const doubled = load.results.filter((d) => (positions.get(streamIdOf(d))?.length ?? 0) > 1)
    const strangers = [...positions.keys()].filter((s) => !planned.has(s))
    if (missing.length > 0 || doubled.length > 0) {
      const facts = await messageFacts(cluster.databaseUrl, [...missing, ...doubled])
      if (missing.length > 0) {
        // Lost (acked, gone from the log) or merely stuck (still in the log, never handled)?
        const inLog = async (d: DeliveryResult) => {
          const seq = tap.lookup(d.shop, messageIdOf(d))?.streamSeq
          if (seq === undefined) return "unknown (no stream seq seen)"
          return jsm.streams.getMessage(cluster.streamName, { seq }).then(
            (m) => (m === null ? "no (acked and deleted)" : `yes (seq ${seq})`),
            (e: unknown) => (/no message found/i.test(String(e)) ? "no (acked and deleted)" : `unknown (${String(e)})`)
          )
        }
        const lines = await Promise.all(missing.slice(0, 30).map(async (d) =>
          `    ${describeDelivery(d, load.startedAt)}\n      db: ${facts(d)}\n      nats: ${tap.describe(d.shop, messageIdOf(d))}; still in the shop log: ${await inLog(d)}`
        ))
        problems.push(`${missing.length} of ${load.accepted.length} deliveries answered 200 were never recorded:\n${lines.join("\n")}`)
      }
      if (doubled.length > 0) {
        problems.push(
          `${doubled.length} deliveries were recorded more than once:\n` +
            doubled.slice(0, 30).map((d) =>
              `    ${describeDelivery(d, load.startedAt)} at positions ${positions.get(streamIdOf(d))!.join(", ")}\n      db: ${facts(d)}\n      nats: ${tap.describe(d.shop, messageIdOf(d))}`
            ).join("\n")
        )
      }
    }
    if (strangers.length > 0) problems.push(`order.created events for orders never sent: ${strangers.slice(0, 10).join(", ")}`)

    const byShop = new Map<string, Array<DeliveryResult>>()
    for (const d of load.accepted) byShop.set(d.shop, [...(byShop.get(d.shop) ?? []), d])
    const disorder: Array<string> = []
    for (const [shop, list] of byShop) {
      let previous: { readonly d: DeliveryResult; readonly position: number } | undefined
      for (const d of [...list].sort((a, b) => a.sendIndex - b.sendIndex)) {
        const position = positions.get(streamIdOf(d))?.[0]
        if (position === undefined) continue // reported as missing
        if (previous !== undefined && position <= previous.position) {
          disorder.push(
            `    ${shop}: order ${d.orderId} (sent #${d.sendIndex}) at position ${position} is not after order ${previous.d.orderId} (sent #${previous.d.sendIndex}) at position ${previous.position}\n` +
              `      #${d.sendIndex}: applied by ${appliedBy.get(streamIdOf(d))}; nats: ${tap.describe(d.shop, messageIdOf(d))}\n` +
              `      #${previous.d.sendIndex}: applied by ${appliedBy.get(streamIdOf(previous.d))}; nats: ${tap.describe(previous.d.shop, messageIdOf(previous.d))}`
          )
        }
        previous = { d, position }
      }
    }
    if (disorder.length > 0) problems.push(`per-shop order broken in ${disorder.length} places:\n${disorder.slice(0, 20).join("\n")}`)

    // 4. Every read model caught up.
    const names = allProjections.map((p) => p.name)
    const recordedOrders = new Set(events.map((e) => e.stream_id))
    const readModels = () =>
      withSql(cluster.databaseUrl, Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const generations = yield* sql<GenerationRow>`
          SELECT name, generation, version, status, position::text, updated_at FROM projection_generations WHERE status <> 'retired'`
        const orders = yield* sql<{ shop: string; order_id: string }>`SELECT shop, order_id FROM shopify_orders`.pipe(
          Effect.catch(() => Effect.succeed([] as ReadonlyArray<{ shop: string; order_id: string }>))
        )
        return { generations, orders }
      }))
    const caughtUp = (m: Awaited<ReturnType<typeof readModels>>) => {
      const atHead = names.every((n) => m.generations.some((g) => g.name === n && g.status === "live" && Number(g.position) >= head))
      const building = m.generations.some((g) => g.status === "building")
      const shown = new Set(m.orders.map((o) => `order-${o.shop}-${o.order_id}`))
      return atHead && !building && [...recordedOrders].every((s) => shown.has(s))
    }
    const settled = await waitFor(async () => {
      const m = await readModels()
      return caughtUp(m) ? m : undefined
    }, "every read model to reach the head", options.timeoutMs, 500).catch(() => undefined)
    timeline.note(settled !== undefined ? "read models caught up" : "read models NOT caught up")
    if (settled === undefined) {
      const m = await readModels()
      const shown = new Set(m.orders.map((o) => `order-${o.shop}-${o.order_id}`))
      const absent = [...recordedOrders].filter((s) => !shown.has(s))
      const projector = cluster.projector()
      problems.push(
        `the read models did not catch up within ${options.timeoutMs / 1000}s (head of the log: position ${head}):\n` +
          names.map((n) => {
            const gens = m.generations.filter((g) => g.name === n)
            return `    ${n}: ${gens.length === 0 ? "no generation" : gens.map((g) => `gen ${g.generation} v${g.version} ${g.status} at ${g.position} (updated ${g.updated_at.toISOString()})`).join("; ")}`
          }).join("\n") +
          `\n    shopify_orders lacks ${absent.length} of ${recordedOrders.size} recorded orders${absent.length > 0 ? ` (e.g. ${absent.slice(0, 3).join(", ")})` : ""}` +
          `\n  projector (${projector.name}, ${projector.exit() === null ? "running" : `exited ${JSON.stringify(projector.exit())}`}) errors:\n` +
          summarizeErrors(projector.errorLines()).map((l) => `    ${l}`).join("\n")
      )
    }

    if (problems.length > 0) {
      const focus = new Set([...missing, ...doubled].map((d) => `${cluster.subjectPrefix}.${partitionOf(d.shop, cluster.partitions)}.*`))
      problems.push(await consumerSummary(jsm, cluster.streamName, focus))
    }
    return problems
  } finally {
    await nc.close()
  }
}

/**
 * A process's error lines, grouped: "12× projection commerce failed; restarting — terminating
 * connection due to administrator command (last 04:08:09.383Z)", "40× partition N consumer
 * failed; re-acquiring — …". The innermost cause of a JSON log line says more than its stack.
 */
export const summarizeErrors = (lines: ReadonlyArray<string>): ReadonlyArray<string> => {
  const groups = new Map<string, { count: number; last: string }>()
  for (const line of lines) {
    let key = line.slice(0, 300)
    let at = ""
    try {
      const j = JSON.parse(line) as { message?: unknown; cause?: unknown; timestamp?: unknown }
      const causes = String(j.cause ?? "").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("at ") && !/^[{}]+$/.test(l))
      const innermost = causes.filter((l) => l.startsWith("[cause]:")).pop() ?? causes[0] ?? ""
      // numbers (partitions, sequences) are folded, so one failure across partitions is one line
      key = `${String(j.message).replace(/\d+/g, "N")}${innermost === "" ? "" : ` — ${innermost.replace(/^\[cause\]:\s*/, "").slice(0, 300)}`}`
      at = String(j.timestamp ?? "").slice(11)
    } catch {
      // not a JSON log line: keep it as it is
    }
    const g = groups.get(key) ?? { count: 0, last: "" }
    groups.set(key, { count: g.count + 1, last: at })
  }
  return [...groups].map(([key, g]) => `${g.count}× ${key}${g.last === "" ? "" : ` (last ${g.last})`}`)
}

/** The run's context for a failure message: load figures, fault timeline, every process's exit and errors, log dir. */
export const describeRun = (options: Pick<VerifyOptions, "scenario" | "load" | "cluster" | "timeline">): string => {
  const { load, cluster, timeline } = options
  const processes = cluster.history().map((p) => {
    const exit = p.exit()
    const errors = summarizeErrors(p.errorLines())
    return `    ${p.name} pid ${p.pid}: ${exit === null ? "running" : `exited ${exit.code ?? exit.signal}`}` +
      errors.map((e) => `\n      ${e}`).join("")
  })
  return [
    `scenario ${options.scenario}: ${load.results.length} webhooks, ${load.accepted.length} accepted in ${(load.durationMs / 1000).toFixed(1)}s; answers ${JSON.stringify(load.answers)}; ${load.retries} retries`,
    `  timeline:\n${timeline.entries().map((e) => `    ${e}`).join("\n")}`,
    `  processes:\n${processes.join("\n")}`,
    `  logs: ${cluster.logDir}`
  ].join("\n")
}
