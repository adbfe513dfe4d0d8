/**
 * A passive wiretap on the chaos cluster's NATS traffic, for failure diagnostics only (no
 * check relies on it: core NATS subscribers may miss messages). It answers "what happened
 * to delivery X in JetStream?" for a webhook the event store does not hold:
 *
 * - `<prefix>.*`: every publish to the shop log (shop and message id from its headers) and
 *   the inbox its PubAck goes to;
 * - `_INBOX.>`: PubAcks (→ the message's stream sequence) and messages the pull consumers
 *   deliver to the workers (the reply subject `$JS.ACK.<stream>.<consumer>.<delivered>.
 *   <stream seq>.…` names consumer, delivery count and stream sequence);
 * - `$JS.ACK.<stream>.>`: the workers' acks (`+ACK`), by stream sequence.
 *
 * Times are the caller's clock (`now`: the fault timeline's, so they can be compared).
 */
import { connect, type NatsConnection } from "@nats-io/transport-node"

export interface TapDelivery {
  readonly at: number
  readonly consumer: string
  readonly deliveryCount: number
}

export interface TapRecord {
  readonly key: string
  readonly published: Array<number>
  streamSeq: number | undefined
  duplicatePublishes: number
  readonly deliveries: Array<TapDelivery>
}

export interface Tap {
  /** What the tap saw of `shop`'s message `messageId`, if anything. */
  readonly lookup: (shop: string, messageId: string) => TapRecord | undefined
  /** One line: stream sequence, publishes, deliveries (consumer#count@time), acks (kind@time). */
  readonly describe: (shop: string, messageId: string) => string
  readonly close: () => Promise<void>
}

const decoder = new TextDecoder()

export const startTap = async (options: {
  readonly natsUrl: string
  readonly streamName: string
  readonly subjectPrefix: string
  readonly now: () => number
}): Promise<Tap> => {
  const nc: NatsConnection = await connect({
    servers: options.natsUrl,
    name: "chaos-tap",
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    inboxPrefix: "_CHAOS_TAP"
  })
  const now = options.now
  const records = new Map<string, TapRecord>()
  const pendingAcks = new Map<string, string>() // PubAck inbox → record key
  const acks = new Map<number, Array<{ at: number; kind: string }>>()
  const ackPrefix = `$JS.ACK.${options.streamName}.`

  const record = (key: string): TapRecord => {
    let r = records.get(key)
    if (r === undefined) {
      r = { key, published: [], streamSeq: undefined, duplicatePublishes: 0, deliveries: [] }
      records.set(key, r)
    }
    return r
  }
  const keyOf = (headers: { get: (k: string) => string } | undefined, data: Uint8Array): string | undefined => {
    const id = headers?.get("Nats-Msg-Id")
    if (id !== undefined && id !== "") return id
    try {
      const m = JSON.parse(decoder.decode(data)) as { shop?: string; messageId?: string }
      return m.shop !== undefined && m.messageId !== undefined ? `${m.shop}:${m.messageId}` : undefined
    } catch {
      return undefined
    }
  }

  nc.subscribe(`${options.subjectPrefix}.*.*`, {
    callback: (err, msg) => {
      if (err !== null) return
      const key = keyOf(msg.headers, msg.data)
      if (key === undefined) return
      record(key).published.push(now())
      if (msg.reply !== undefined) pendingAcks.set(msg.reply, key)
    }
  })
  nc.subscribe("_INBOX.>", {
    callback: (err, msg) => {
      if (err !== null) return
      if (msg.reply?.startsWith(ackPrefix) === true) {
        // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>
        const t = msg.reply.split(".")
        const key = keyOf(msg.headers, msg.data)
        const seq = Number(t[5])
        if (key === undefined) return
        const r = record(key)
        r.streamSeq ??= seq
        r.deliveries.push({ at: now(), consumer: t[3] ?? "?", deliveryCount: Number(t[4]) })
        return
      }
      const key = pendingAcks.get(msg.subject)
      if (key === undefined) return
      pendingAcks.delete(msg.subject)
      try {
        const ack = JSON.parse(decoder.decode(msg.data)) as { stream?: string; seq?: number; duplicate?: boolean }
        if (ack.stream === options.streamName && typeof ack.seq === "number") {
          const r = record(key)
          r.streamSeq = ack.seq
          if (ack.duplicate === true) r.duplicatePublishes++
        }
      } catch {
        // not a PubAck
      }
    }
  })
  nc.subscribe(`${ackPrefix}>`, {
    callback: (err, msg) => {
      if (err !== null) return
      const seq = Number(msg.subject.split(".")[5])
      const list = acks.get(seq) ?? []
      list.push({ at: now(), kind: decoder.decode(msg.data) || "+ACK" })
      acks.set(seq, list)
    }
  })
  await nc.flush()

  const lookup = (shop: string, messageId: string) => records.get(`${shop}:${messageId}`)
  return {
    lookup,
    describe: (shop, messageId) => {
      const r = lookup(shop, messageId)
      if (r === undefined) return "tap: never seen on NATS"
      const ackList = r.streamSeq === undefined ? [] : acks.get(r.streamSeq) ?? []
      return [
        `stream seq ${r.streamSeq ?? "?"}`,
        `published at ${r.published.map((t) => `+${(t / 1000).toFixed(1)}s`).join(", ") || "?"}${r.duplicatePublishes > 0 ? ` (${r.duplicatePublishes} deduped)` : ""}`,
        `delivered ${r.deliveries.map((d) => `${d.consumer}#${d.deliveryCount}@+${(d.at / 1000).toFixed(1)}s`).join(", ") || "never"}`,
        `acked ${ackList.map((a) => `${a.kind}@+${(a.at / 1000).toFixed(1)}s`).join(", ") || "never"}`
      ].join("; ")
    },
    close: async () => {
      await nc.drain().catch(() => nc.close())
    }
  }
}
