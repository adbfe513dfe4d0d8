/**
 * A shop handler for runtime tests: `test.append` appends `test.appended {n}` to the shop's
 * `testlog-<shop>` stream with an exact expected version (kept in actor memory, loaded lazily),
 * so any reorder, loss or double apply shows up in the stream. Payload flags inject failures.
 */
import { Effect, Layer } from "effect"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { PermanentFailure, ShopHandlers, TransientFailure } from "../../src/actors/ShopHandlers.ts"

export interface TestPayload {
  readonly n: number
  /** Fails transiently every time. */
  readonly poison?: boolean
  /** With `poison`: the first attempt waits for this gate to open. */
  readonly gate?: string
  /** Handling waits for this gate to open (every attempt), then goes on normally. */
  readonly hold?: string
  /** Fails permanently. */
  readonly permanent?: boolean
  /** Fails transiently this many times, then succeeds. */
  readonly flaky?: number
  /** After the commit, a supervised side effect publishes a `test.append` with this n. */
  readonly followUp?: number
  /** Schedules a `test.append` with this n after `delayMs`. */
  readonly schedule?: { readonly n: number; readonly delayMs: number }
}

const flakyCounts = new Map<string, number>()

/**
 * Gates a test can hold closed: a `poison` message with `gate: name` blocks its first attempt
 * until the test opens the gate, so "other shops progress meanwhile" is shown without timing.
 */
const gates = new Map<string, { open: () => void; opened: Promise<void> }>()
export const gate = (name: string) => {
  let g = gates.get(name)
  if (g === undefined) {
    let open!: () => void
    const opened = new Promise<void>((resolve) => (open = resolve))
    g = { open, opened }
    gates.set(name, g)
  }
  return g
}

export const testHandlersLayer = Layer.effect(
  ShopHandlers,
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    return ShopHandlers.of({
      handle: (ctx) =>
        Effect.gen(function*() {
          const p = ctx.message.payload as TestPayload
          if (p.hold !== undefined) yield* Effect.promise(() => gate(p.hold!).opened)
          if (p.permanent) return yield* new PermanentFailure({ reason: `message ${p.n} is invalid` })
          if (p.poison) {
            if (p.gate !== undefined && ctx.attempt === 1) yield* Effect.promise(() => gate(p.gate!).opened)
            return yield* new TransientFailure({ reason: `message ${p.n} always fails` })
          }
          if (p.flaky !== undefined) {
            const key = `${ctx.shop}:${ctx.message.messageId}`
            const seen = flakyCounts.get(key) ?? 0
            if (seen < p.flaky) {
              flakyCounts.set(key, seen + 1)
              return yield* new TransientFailure({ reason: `flaky ${seen + 1}/${p.flaky}` })
            }
          }
          const streamId = `testlog-${ctx.shop}`
          let version = ctx.memory.get<number>("version")
          if (version === undefined) {
            version = (yield* store.streamInfo(streamId))?.version ?? 0
          }
          ctx.memory.set("version", version + 1)
          return {
            appends: [{ streamId, expected: version === 0 ? "no_stream" as const : version, events: [{ type: "test.appended", data: { n: p.n } }] }],
            afterCommit: p.followUp === undefined ? undefined : log.publish({
              shop: ctx.shop,
              messageId: `${ctx.message.messageId}:follow-up`,
              type: "test.append",
              payload: { n: p.followUp }
            }).pipe(Effect.asVoid, Effect.orDie),
            schedule: p.schedule
              ? [{ id: `timer-${ctx.shop}-${p.schedule.n}`, at: new Date(Date.now() + p.schedule.delayMs), type: "test.append", payload: { n: p.schedule.n } }]
              : undefined
          }
        })
    })
  })
)
