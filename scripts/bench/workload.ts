/**
 * The write workload: Shopify-like order events, writers that own their streams (so every
 * append carries the exact expected version), and a measuring wrapper that emits one row.
 */
import { Effect } from "effect"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"

type AppendError = Effect.Error<ReturnType<EventStore["Service"]["append"]>>
import type { TargetKind } from "./config.ts"
import { machineBusySeconds, peakRssMb, processCpuSeconds, serverCpuSeconds } from "./proc.ts"
import { ROW_PREFIX, type Row } from "./report.ts"

/** The event types the workload writes. */
export const EVENT_TYPES = ["order.created", "order.paid", "order.fulfilled", "inventory.adjusted"] as const

let counter = 0

/** A ~350-byte order-ish payload, different each time (no cache effects on JSON). */
export const makeEvent = (): NewEvent => {
  const n = counter++
  return {
    type: EVENT_TYPES[n % EVENT_TYPES.length]!,
    data: {
      orderId: `gid://shopify/Order/${5_000_000_000 + n}`,
      name: `#${1000 + n}`,
      currency: "EUR",
      totalPrice: ((n % 9973) / 10 + 5).toFixed(2),
      financialStatus: "paid",
      customer: { id: `gid://shopify/Customer/${n % 5000}`, locale: "de" },
      lineItems: [
        { sku: `SKU-${n % 500}`, quantity: 1 + (n % 3), price: "19.90" },
        { sku: `SKU-${(n * 7) % 500}`, quantity: 1, price: "4.50" }
      ],
      tags: ["bench", n % 2 === 0 ? "vip" : "new"]
    }
  }
}

export const makeEvents = (size: number): Array<NewEvent> => Array.from({ length: size }, makeEvent)

const shopCount = 10

/** Streams `<prefix>-<i>` with their known versions (the writer that owns one updates it). */
export class StreamSet {
  readonly prefix: string
  readonly versions: Int32Array
  constructor(prefix: string, count: number) {
    this.prefix = prefix
    this.versions = new Int32Array(count)
  }
  /** Appends made so far per writer slot (continuing a capped run keeps the round robin). */
  readonly done = new Map<number, number>()
  offset(writer: number): number {
    return this.done.get(writer) ?? 0
  }
  get size(): number {
    return this.versions.length
  }
  id(i: number): string {
    return `${this.prefix}-${i}`
  }
  shop(i: number): string {
    return `bench-shop-${i % shopCount}.myshopify.com`
  }
}

/**
 * `writers` concurrent writers make `calls` appends of `perCall` events in total. Writer w
 * owns the streams i with i % writers === w and cycles through them, so each append states
 * the exact expected version ("no_stream" for the first). Returns the events written.
 */
export const runWriters = (
  store: EventStore["Service"],
  streams: StreamSet,
  writers: number,
  calls: number,
  perCall: number,
  /** Stop starting appends after this many seconds (the events written so far are returned). */
  capSeconds = Number.POSITIVE_INFINITY
): Effect.Effect<number, AppendError> =>
  Effect.suspend(() => {
    const deadline = performance.now() + capSeconds * 1000
    const writer = (w: number) =>
      Effect.gen(function*() {
        const owned: Array<number> = []
        for (let i = w; i < streams.size; i += writers) owned.push(i)
        const mine = Math.floor(calls / writers) + (w < calls % writers ? 1 : 0)
        const start = streams.offset(w)
        let written = 0
        for (let k = 0; k < mine && performance.now() <= deadline; k++) {
          const s = owned[(start + k) % owned.length]!
          const v = streams.versions[s]!
          const r = yield* store.append(streams.id(s), streams.shop(s), v === 0 ? "no_stream" : v, makeEvents(perCall), {
            correlationId: `bench-${w}-${start + k}`,
            causationId: null,
            actor: { kind: "webhook", id: "orders/create" }
          })
          streams.versions[s] = r.nextVersion
          streams.done.set(w, start + k + 1)
          written += r.appended
        }
        return written
      })
    return Effect.map(
      Effect.forEach(Array.from({ length: writers }, (_, w) => w), writer, { concurrency: "unbounded" }),
      (counts) => counts.reduce((a, b) => a + b, 0)
    )
  })

/** A note for rows whose writers stopped at the time cap. */
export const capNote = (planned: number) => (events: number): string | undefined =>
  events < planned
    ? `stopped at the time cap after ${events.toLocaleString("en-US")} of ${planned.toLocaleString("en-US")} events`
    : undefined

export interface MeasureContext {
  readonly backend: string
  readonly postmasterPid: number | null
}

export const emitRow = (row: Row): void => {
  process.stdout.write(ROW_PREFIX + JSON.stringify(row) + "\n")
}

export const log = (ctx: MeasureContext, message: string): void => {
  process.stderr.write(`  [${ctx.backend}] ${message}\n`)
}

/** Runs `work` (which returns the number of events it handled), timing it, and emits a row. */
export const measure = <E, R, E2 = never, R2 = never>(
  ctx: MeasureContext,
  scenario: string,
  target: TargetKind,
  work: Effect.Effect<number, E, R>,
  note?: (events: number, seconds: number) => string | undefined,
  /** Runs after the clock stopped; its text is added to the row's note. */
  annotate?: Effect.Effect<string | undefined, E2, R2>
): Effect.Effect<Row, E | E2, R | R2> =>
  Effect.gen(function*() {
    log(ctx, `${scenario} ...`)
    const cpu0 = processCpuSeconds()
    const server0 = serverCpuSeconds(ctx.postmasterPid)
    const machine0 = machineBusySeconds()
    const t0 = performance.now()
    const events = yield* work
    const seconds = Math.max(1e-6, (performance.now() - t0) / 1000)
    const cpu1 = processCpuSeconds()
    const server1 = serverCpuSeconds(ctx.postmasterPid)
    const machine1 = machineBusySeconds()
    const clientCores = (cpu1 - cpu0) / seconds
    const serverCores = server0 === null || server1 === null ? null : (server1 - server0) / seconds
    const extra = annotate === undefined ? undefined : yield* annotate
    const notes = [note?.(events, seconds), extra].filter((x) => x !== undefined)
    const row: Row = {
      backend: ctx.backend,
      scenario,
      events,
      seconds,
      target,
      clientCores,
      serverCores,
      otherCores: machine0 === null || machine1 === null
        ? null
        : Math.max(0, (machine1 - machine0) / seconds - clientCores - (serverCores ?? 0)),
      peakRssMb: peakRssMb(),
      note: notes.length > 0 ? notes.join("; ") : undefined
    }
    emitRow(row)
    log(ctx, `${scenario}: ${events} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s`)
    return row
  })
