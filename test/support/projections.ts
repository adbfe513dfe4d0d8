/** Waiting for projections in tests: woken by the runner's progress signal, never by sleeping. */
import { Deferred, Effect } from "effect"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ProjectionProgress, type ProjectionStatus, projectionStatus } from "../../src/projections/ProjectionRunner.ts"
import { ev, meta } from "./fixtures.ts"

/** Until every named projection's live generation has reached the log's safe head (none rebuilding). */
export const awaitAllCaughtUp = (names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const progress = yield* ProjectionProgress
    for (;;) {
      const next = yield* progress.next
      const status = yield* projectionStatus
      const live = names.map((name) => status.find((s) => s.name === name && s.status === "live"))
      const building = status.some((s) => names.includes(s.name) && s.status === "building")
      if (!building && live.every((s) => s !== undefined && s.lag === 0)) return live as ReadonlyArray<ProjectionStatus>
      yield* Deferred.await(next)
    }
  })

/** Until `name`'s live generation has reached the log's safe head; its status. */
export const awaitCaughtUp = (name: string) => Effect.map(awaitAllCaughtUp([name]), (live) => live[0]!)

/** `n` events `<prefix>.happened {i}` over three shops and `streams` streams per shop. */
export const appendMany = (n: number, prefix: string, streams = 5) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    for (let i = 0; i < n; i++) {
      const shop = `shop-${i % 3}`
      yield* store.append(`${prefix}-${i % streams}-${shop}`, shop, "any", [ev(`${prefix}.happened`, { i })], meta(`corr-${i}`))
    }
  })
