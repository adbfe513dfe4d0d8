/**
 * `sumeru streams show <streamId> [--at-version N | --at-time T]`: a stream's state folded up to
 * a version or a point in time (time travel), printed as JSON. The fold comes from the
 * registry in `domain/catalog/folds.ts` (the domain's own `evolve` where there is one).
 *
 * A long stream loads from its latest snapshot plus the events after it (`EventStore.loadFold`).
 * These snapshots belong to this command: one per stream and category fold
 * (`streams-show/<category>`), holding the folded state and the skipped-event report. With
 * `--at-version N`, a snapshot taken after N is not used. With `--at-time`, no snapshot is
 * used, because a time filter can leave out events in the middle of a stream.
 */
import { Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { categoryOf, foldFor, type SkippedEvent, stepFold } from "../../../domain/catalog/folds.ts"
import { EventStore, type Fold } from "../../eventstore/EventStore.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine } from "../output.ts"
import { timestampFlag } from "../time.ts"

/**
 * Version of this command's snapshots. Bump it when a fold in `domain/catalog/folds.ts`
 * changes its state's shape or what it makes of an event. Older snapshots are then ignored.
 */
export const SHOW_FOLD_VERSION = 1

/** What `streams show` keeps folded: the category fold's state plus its event accounting. */
export interface ShownState {
  readonly state: unknown
  readonly eventCount: number
  readonly skipped: ReadonlyArray<SkippedEvent>
  readonly skippedCount: number
}

const ShownState = Schema.Struct({
  // category fold states are plain JSON (the command prints them as JSON)
  state: Schema.Unknown,
  eventCount: Schema.Number,
  skipped: Schema.Array(Schema.Struct({ streamVersion: Schema.Number, type: Schema.String, reason: Schema.String })),
  skippedCount: Schema.Number
})

/** The stream's category fold (`domain/catalog/folds.ts`) as a snapshot-able fold. */
export const showFold = (streamId: string): Fold<ShownState> => {
  const fold = foldFor(streamId)
  return {
    name: `streams-show/${fold.category}`,
    version: SHOW_FOLD_VERSION,
    initial: () => ({ state: fold.initialState(), eventCount: 0, skipped: [], skippedCount: 0 }),
    evolve: (acc, event) => {
      const next = stepFold({ fold, version: 0, ...acc }, event)
      return { state: next.state, eventCount: next.eventCount, skipped: next.skipped, skippedCount: next.skippedCount }
    },
    schema: ShownState
  }
}

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
        const fold = showFold(streamId)
        const loaded = yield* store.loadFold(streamId, fold, {
          to: Option.getOrUndefined(atVersion),
          until: Option.getOrUndefined(atTime)
        })
        const folded = { ...loaded.state, version: loaded.version }
        yield* printLine(JSON.stringify(
          {
            streamId,
            shop: info.shop,
            category: categoryOf(streamId),
            fold: foldFor(streamId).description,
            at: Option.isSome(atVersion)
              ? { version: atVersion.value }
              : Option.isSome(atTime)
              ? { time: atTime.value.toISOString() }
              : "current",
            version: folded.version,
            currentVersion: info.version,
            eventCount: folded.eventCount,
            ...(folded.skippedCount > 0 ? { skippedCount: folded.skippedCount, skipped: folded.skipped } : {}),
            state: folded.state,
            ...(loaded.snapshotVersion === null ? {} : { fromSnapshot: { version: loaded.snapshotVersion, tailEvents: loaded.tailEvents } })
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
