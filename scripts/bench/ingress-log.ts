/**
 * What `bench:ingress` reads back from the shop log and the actors' bookkeeping, to check
 * that every delivery answered 2xx was durably accepted: the messages still in the log
 * (`shop_log` rows, or the JetStream stream, which on a WorkQueue stream holds exactly the
 * unacked ones) and, when actors ran, the ids they handled (`processed_messages`) or gave up
 * on (`dead_letters`). Messages are keyed `<shop> <message id>`.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { execFileSync } from "node:child_process"

export interface LogContents {
  /** Still in the log (accepted, not consumed). */
  readonly inLog: ReadonlySet<string>
  readonly processed: ReadonlySet<string>
  readonly deadLettered: ReadonlySet<string>
}

export const keyOf = (shop: string, messageId: string): string => `${shop} ${messageId}`

const psqlRows = (url: string, sql: string): Array<Array<string>> => {
  const out = execFileSync("psql", [url, "-qtAX", "-F", "\t", "-c", sql], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"] })
    .toString()
  return out.split("\n").filter((l) => l !== "").map((l) => l.split("\t"))
}

const keys = (rows: Array<Array<string>>): Set<string> => new Set(rows.map(([shop, id]) => keyOf(shop!, id!)))

/** `SELECT count(*)` on a PostgreSQL database. */
export const pgCount = (url: string, table: string): number => Number(psqlRows(url, `SELECT count(*) FROM ${table}`)[0]![0])

/** The postmaster's pid (for CPU readings): the parent of its checkpointer. */
export const postmasterPid = (url: string): number | null => {
  const row = psqlRows(url, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")[0]
  if (row === undefined) return null
  try {
    const stat = execFileSync("cat", [`/proc/${row[0]}/stat`]).toString()
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return null
  }
}

/** The actors' tables (and, for the embedded log, `shop_log`) of a PostgreSQL database. */
export const readPgTables = (url: string, withShopLog: boolean): LogContents => ({
  inLog: withShopLog ? keys(psqlRows(url, "SELECT shop, message_id FROM shop_log")) : new Set(),
  processed: keys(psqlRows(url, "SELECT shop, message_id FROM processed_messages")),
  deadLettered: keys(psqlRows(url, "SELECT shop, message_id FROM dead_letters"))
})

/** The same tables of a PGlite data directory (the server that owns it must have stopped). */
export const readPgliteTables = async (dataDir: string): Promise<LogContents> => {
  const { PGlite } = await import("@electric-sql/pglite")
  const db = new PGlite(dataDir)
  try {
    const read = async (table: string) =>
      new Set((await db.query<{ shop: string; message_id: string }>(`SELECT shop, message_id FROM ${table}`)).rows.map((r) => keyOf(r.shop, r.message_id)))
    return { inLog: await read("shop_log"), processed: await read("processed_messages"), deadLettered: await read("dead_letters") }
  } finally {
    await db.close()
  }
}

const STREAM = "SHOP_LOG"

/** Messages in the JetStream shop log (the WorkQueue stream's unacked backlog). */
export const natsPending = async (servers: string): Promise<number> => {
  const nc = await connect({ servers, name: "bench-ingress-check" })
  try {
    const jsm = await jetstreamManager(nc)
    return (await jsm.streams.info(STREAM)).state.messages
  } catch {
    return 0 // no stream yet
  } finally {
    await nc.close()
  }
}

/**
 * The ids of every message in the stream, from their `Nats-Msg-Id` headers (`<shop>:<message
 * id>`), read by a headers-only consumer and acked (the stream is WorkQueue: this empties
 * it). The server's own partition consumers are deleted first: a WorkQueue stream refuses
 * overlapping consumers. Only for a stream whose server has stopped.
 */
export const drainNatsIds = async (servers: string): Promise<Set<string>> => {
  const nc = await connect({ servers, name: "bench-ingress-check" })
  const ids = new Set<string>()
  try {
    const jsm = await jetstreamManager(nc)
    const total = (await jsm.streams.info(STREAM)).state.messages
    if (total === 0) return ids
    for await (const c of jsm.consumers.list(STREAM)) await jsm.consumers.delete(STREAM, c.name)
    await jsm.consumers.add(STREAM, {
      durable_name: "bench-verify", ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
      headers_only: true, max_ack_pending: 10_000
    })
    const consumer = await jetstream(nc).consumers.get(STREAM, "bench-verify")
    let seen = 0
    while (seen < total) {
      const batch = await consumer.fetch({ max_messages: 5000, expires: 2000 })
      let got = 0
      for await (const m of batch) {
        got++
        seen++
        const id = m.headers?.get("Nats-Msg-Id") ?? ""
        const colon = id.indexOf(":")
        ids.add(colon < 0 ? id : keyOf(id.slice(0, colon), id.slice(colon + 1)))
        m.ack()
      }
      if (got === 0) break
    }
    await nc.flush()
    return ids
  } finally {
    await nc.close()
  }
}
