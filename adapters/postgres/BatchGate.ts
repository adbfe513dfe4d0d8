/**
 * Write-combining for a `RequestResolver` on a database with one connection (PGlite: one
 * session). Batches formed every millisecond would queue for that connection one behind
 * another, each paying its statement's fixed cost; with the gate, what arrives while a batch
 * runs waits and goes in the next one, so batches grow with the load and the connection runs
 * one statement per batch instead of one per millisecond.
 *
 * Use `delay` as the resolver's batch delay (`RequestResolver.setDelayEffect`) and wrap its
 * work in `run`. A batch that reaches the resolver's `batchN` starts at once, past the gate.
 */
import { Duration, Effect } from "effect"

export interface BatchGate {
  readonly delay: Effect.Effect<void>
  readonly run: <A, E, R>(batch: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * At most `maxInFlight` batches run at once; `collect` is how long a batch collects before it
 * asks for a slot. `maxInFlight: Infinity` is the plain delay (a pool of connections).
 */
export const makeBatchGate = (maxInFlight: number, collect: Duration.Duration = Duration.millis(1)): BatchGate => {
  let inFlight = 0
  const waiting = new Set<() => void>()
  const wait = Effect.callback<void>((resume) => {
    if (inFlight < maxInFlight) return resume(Effect.void)
    const wake = () => resume(Effect.void)
    waiting.add(wake)
    // an interrupted wait (the batch filled up and started) gives its turn up
    return Effect.sync(() => void waiting.delete(wake))
  })
  const release = Effect.sync(() => {
    inFlight--
    const next = waiting.values().next()
    if (next.done !== true) {
      waiting.delete(next.value)
      next.value()
    }
  })
  return {
    delay: Effect.andThen(Effect.sleep(collect), wait),
    run: (batch) => Effect.suspend(() => {
      inFlight++
      return Effect.ensuring(batch, release)
    })
  }
}

/** One batch at a time on the embedded database's single session; unbounded on a server's pool. */
export const batchGateFor = (mode: { readonly kind: "postgres" | "embedded" }, collect?: Duration.Duration): BatchGate =>
  makeBatchGate(mode.kind === "embedded" ? 1 : Number.POSITIVE_INFINITY, collect)
