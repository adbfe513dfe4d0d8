/**
 * `sumeru events replay --shop S [--after-position P] [--since T] [--until T] [--types a,b]
 * [--limit N] [--format jsonl|table]`: a shop's events from the global log, in position order,
 * streamed to stdout. Memory stays constant: the store reads in batches and each batch is
 * written (and taken by the OS) before the next one is read. `| head` ends it quietly.
 */
import { Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import type { RecordedEvent } from "../../../domain/events/Envelope.ts"
import { EventStore } from "../../eventstore/EventStore.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { fixedTable, quietOnBrokenPipe, writeStdout } from "../output.ts"
import { timestampFlag } from "../time.ts"

/** One JSON object per line with every envelope field (times as ISO-8601 strings). */
export const toJsonLine = (e: RecordedEvent): string =>
  JSON.stringify({
    position: e.position,
    eventId: e.eventId,
    shop: e.shop,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    correlationId: e.correlationId,
    causationId: e.causationId,
    actor: e.actor,
    occurredAt: e.occurredAt.toISOString(),
    recordedAt: e.recordedAt.toISOString()
  })

const DATA_PREVIEW = 160

const table = fixedTable<RecordedEvent>([
  { header: "POSITION", width: 10, align: "right", value: (e) => String(e.position) },
  { header: "OCCURRED_AT", width: 24, value: (e) => e.occurredAt.toISOString() },
  { header: "STREAM", width: 44, value: (e) => e.streamId },
  { header: "VER", width: 5, align: "right", value: (e) => String(e.streamVersion) },
  { header: "TYPE", width: 30, value: (e) => e.type },
  { header: "ACTOR", width: 20, value: (e) => `${e.actor.kind}:${e.actor.id}` },
  {
    header: "DATA",
    width: DATA_PREVIEW,
    value: (e) => {
      const json = JSON.stringify(e.data) ?? "null"
      return json.length <= DATA_PREVIEW ? json : `${json.slice(0, DATA_PREVIEW - 1)}…`
    }
  }
])

const nonNegative = (name: string) =>
  Flag.Int(name).pipe(
    Flag.filterMap((n) => (n >= 0 ? Option.some(n) : Option.none()), () => "a non-negative integer")
  )

const replay = Command.make(
  "replay",
  {
    shop: Flag.String("shop").pipe(Flag.withDescription("The shop whose events to replay (e.g. example.myshopify.com)")),
    afterPosition: nonNegative("after-position").pipe(
      Flag.withDescription("Only events after this global position (resume from the last one you have)"),
      Flag.withDefault(0)
    ),
    since: timestampFlag("since").pipe(Flag.withDescription("Only events that occurred at or after this time (ISO-8601; UTC unless an offset is given)"), Flag.optional),
    until: timestampFlag("until").pipe(Flag.withDescription("Only events that occurred at or before this time (ISO-8601; UTC unless an offset is given)"), Flag.optional),
    types: Flag.String("types").pipe(Flag.withDescription("Only these event types, comma-separated"), Flag.optional),
    limit: nonNegative("limit").pipe(Flag.withDescription("Stop after this many events"), Flag.optional),
    format: Flag.Literals("format", ["jsonl", "table"]).pipe(
      Flag.withDescription("jsonl: one JSON object per event; table: aligned columns"),
      Flag.withDefault("jsonl")
    )
  },
  (o) =>
    Effect.gen(function*() {
      const since = Option.getOrUndefined(o.since)
      const until = Option.getOrUndefined(o.until)
      if (since !== undefined && until !== undefined && since.getTime() > until.getTime()) {
        return yield* fail(`--since (${since.toISOString()}) is after --until (${until.toISOString()})`)
      }
      const types = Option.map(o.types, (t) => t.split(",").map((s) => s.trim()).filter((s) => s !== ""))
      if (Option.isSome(types) && types.value.length === 0) return yield* fail("--types needs at least one event type")
      yield* withCore(quietOnBrokenPipe(Effect.gen(function*() {
        const store = yield* EventStore
        if (o.format === "table") yield* writeStdout(`${table.header}\n`)
        const format = o.format === "table" ? table.row : toJsonLine
        yield* store.readAll({
          after: o.afterPosition,
          shop: o.shop,
          types: Option.getOrUndefined(types),
          since,
          until,
          limit: Option.getOrUndefined(o.limit)
        }).pipe(
          Stream.runForEachArray((batch) => {
            let text = ""
            for (const e of batch) text += `${format(e)}\n`
            return writeStdout(text)
          })
        )
      })))
    })
).pipe(
  Command.withDescription("Stream a shop's events to stdout in position order (jsonl for files and DuckDB, or a table)"),
  Command.withExamples([
    { command: "sumeru events replay --shop example.myshopify.com > events.jsonl", description: "Everything, as JSON lines" },
    {
      command: "sumeru events replay --shop example.myshopify.com --types job.completed,job.failed --since 2025-12-01 --format table",
      description: "Finished jobs since December, as a table"
    }
  ])
)

export const eventsCommand = Command.make("events").pipe(
  Command.withDescription("The global event log"),
  Command.withSubcommands([replay])
)
