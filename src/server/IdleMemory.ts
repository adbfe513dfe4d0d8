/**
 * Gives the memory of a busy spell back to the operating system once the process is idle.
 *
 * Why: Node 24's V8 keeps the heap pages a collection frees in a pool for reuse, and returns them
 * only on a last-resort collection (the one it runs under memory pressure), not on its regular or
 * idle ones. Measured on this machine: a worker that had served 10,000 shops and passivated every
 * actor held 1,061 MB resident with 49 MB of live heap (`npm run bench:pipeline`, "after
 * passivation": 3,700 pooled 256 kB pages); a plain script that churns 600 MB of short-lived
 * objects keeps 742 MB resident after `gc()` on Node 24 and 81 MB on Node 20. A last-resort
 * collection brings it back to what is live (742 → 87 MB, about 130 ms).
 *
 * So every {@link CHECK_EVERY} the process looks at how busy its event loop was. Once it has
 * been idle for {@link IDLE_CHECKS} checks in a row (40 s: longer than the shop actors' 30 s
 * passivation, so what the actors of the spell held is garbage by then) and its resident set has
 * grown by {@link WORTH_RELEASING} since the last release, it runs that collection: one pause of
 * 0.1–0.4 s on an idle process, once per idle spell (a spell with nothing to give back does not
 * repeat it). `SUMERU_RELEASE_IDLE_MEMORY=false` turns it off.
 */
import { performance } from "node:perf_hooks"
import { runInNewContext } from "node:vm"
import { setFlagsFromString } from "node:v8"
import { Config, Duration, Effect, Layer } from "effect"

/** How often the event loop's utilization is read. */
export const CHECK_EVERY = Duration.seconds(10)
/** Below this share of the time busy, a check counts as idle. */
export const IDLE_UTILIZATION = 0.1
/** Checks in a row that must be idle before a release: 40 s, past the actors' 30 s passivation. */
export const IDLE_CHECKS = 4
/** Growth of the resident set since the last release that is worth a collection (bytes). */
export const WORTH_RELEASING = 64 * 1024 * 1024

export interface IdleState {
  readonly idleChecks: number
  /** The resident set just after the last release (0 before the first). */
  readonly rssAfterRelease: number
}

export const initialIdleState: IdleState = { idleChecks: 0, rssAfterRelease: 0 }

/** One check: whether to release now, and the state after it (before the release's own effect). */
export const checkIdle = (state: IdleState, reading: { readonly utilization: number; readonly rss: number }): { readonly release: boolean; readonly state: IdleState } => {
  if (reading.utilization >= IDLE_UTILIZATION) return { release: false, state: { ...state, idleChecks: 0 } }
  const idleChecks = state.idleChecks + 1
  const release = idleChecks >= IDLE_CHECKS && reading.rss - state.rssAfterRelease >= WORTH_RELEASING
  return { release, state: { ...state, idleChecks } }
}

type GcFunction = (options: { readonly type: "major"; readonly execution: "sync"; readonly flavor: "last-resort" }) => void

/**
 * V8's `gc` function, made available the way test runners do (`--expose-gc` set at run time, read
 * from a fresh context); undefined when the runtime refuses.
 */
const lastResortGc = (): GcFunction | undefined => {
  try {
    setFlagsFromString("--expose-gc")
    const gc: unknown = runInNewContext("gc")
    return typeof gc === "function" ? (gc as GcFunction) : undefined
  } catch {
    return undefined
  }
}

/** The loop, for `every` (tests run it faster). */
export const releaseIdleMemory = (every: Duration.Duration = CHECK_EVERY) =>
  Effect.gen(function*() {
    const gc = lastResortGc()
    if (gc === undefined) return yield* Effect.logWarning("idle memory release: this runtime does not expose its garbage collector; off")
    let state = initialIdleState
    let last = performance.eventLoopUtilization()
    yield* Effect.forever(Effect.andThen(Effect.sleep(every), Effect.suspend(() => {
      const now = performance.eventLoopUtilization()
      const utilization = performance.eventLoopUtilization(now, last).utilization
      last = now
      const before = process.memoryUsage.rss()
      const decided = checkIdle(state, { utilization, rss: before })
      state = decided.state
      if (!decided.release) return Effect.void
      const started = performance.now()
      gc({ type: "major", execution: "sync", flavor: "last-resort" })
      const after = process.memoryUsage.rss()
      state = { idleChecks: 0, rssAfterRelease: after }
      // the collection's own pause is not activity: the next check starts from here
      last = performance.eventLoopUtilization()
      return Effect.logDebug(`idle memory release: resident ${(before / 1048576).toFixed(0)} → ${(after / 1048576).toFixed(0)} MB in ${(performance.now() - started).toFixed(0)} ms (event loop ${(utilization * 100).toFixed(1)} % busy)`)
    })))
  })

/** The release loop for the life of the process, unless `SUMERU_RELEASE_IDLE_MEMORY=false`. */
export const layer = Layer.effectDiscard(Effect.gen(function*() {
  const enabled = yield* Config.Boolean("SUMERU_RELEASE_IDLE_MEMORY").pipe(Config.withDefault(true))
  if (enabled) yield* Effect.forkScoped(releaseIdleMemory())
}))
