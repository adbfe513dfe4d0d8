/**
 * `sumeru streams show <streamId> [--at-version N | --at-time T]`: a stream's state folded up to
 * a version or a point in time (time travel), printed as JSON. The fold comes from the
 * registry in `domain/catalog/folds.ts` (the domain's own `evolve` where there is one).
 */
import { Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { categoryOf, startFold, stepFold } from "../../../domain/catalog/folds.ts"
import { EventStore } from "../../eventstore/EventStore.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine } from "../output.ts"
import { timestampFlag } from "../time.ts"

const show = Command.make(
  "show",
  {
    streamId: Argument.String("streamId").pipe(Argument.withDescription("Stream id, e.g. job-<uuid>")),
    atVersion: Flag.Int("at-version").pipe(
      Flag.filterMap((n) => (n >= 0 ? Option.some(n) : Option.none()), () => "a non-negative integer"),
      Flag.withDescription("Fold the first N events only"),
      Flag.optional
    ),
    atTime: timestampFlag("at-time").pipe(
      Flag.withDescription("Fold the events that occurred at or before this time (ISO-8601; UTC unless an offset is given)"),
      Flag.optional
    )
  },
  ({ streamId, atVersion, atTime }) =>
    Effect.gen(function*() {
      if (Option.isSome(atVersion) && Option.isSome(atTime)) {
        return yield* fail("--at-version and --at-time cannot be used together")
      }
      yield* withCore(Effect.gen(function*() {
        const store = yield* EventStore
        const info = yield* store.streamInfo(streamId)
        if (info === null) return yield* fail(`stream "${streamId}" not found`)
        if (Option.isSome(atVersion) && atVersion.value > info.version) {
          return yield* fail(`stream "${streamId}" is at version ${info.version}; --at-version ${atVersion.value} is beyond it`)
        }
        const folded = yield* store.readStream(streamId, {
          to: Option.getOrUndefined(atVersion),
          until: Option.getOrUndefined(atTime)
        }).pipe(Stream.runFold(() => startFold(streamId), stepFold))
        yield* printLine(JSON.stringify(
          {
            streamId,
            shop: info.shop,
            category: categoryOf(streamId),
            fold: folded.fold.description,
            at: Option.isSome(atVersion)
              ? { version: atVersion.value }
              : Option.isSome(atTime)
              ? { time: atTime.value.toISOString() }
              : "current",
            version: folded.version,
            currentVersion: info.version,
            eventCount: folded.eventCount,
            ...(folded.skippedCount > 0 ? { skippedCount: folded.skippedCount, skipped: folded.skipped } : {}),
            state: folded.state
          },
          null,
          2
        ))
      }))
    })
).pipe(
  Command.withDescription("A stream's folded state, now or at a version or time (time travel), as JSON"),
  Command.withExamples([
    { command: "sumeru streams show job-550e8400-e29b-41d4-a716-446655440000", description: "A job's current state" },
    {
      command: "sumeru streams show job-550e8400-e29b-41d4-a716-446655440000 --at-time 2025-12-27T10:31:00Z",
      description: "The same job as it was at 10:31 UTC"
    }
  ])
)

export const streamsCommand = Command.make("streams").pipe(
  Command.withDescription("Event streams"),
  Command.withSubcommands([show])
)
