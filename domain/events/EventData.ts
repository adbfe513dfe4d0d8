/**
 * Reading a stored event's data through its type's schema. Every event type the application
 * appends has an `effect/Schema` of its `data` beside the code that owns it (one map
 * `eventType → schema` per area: `domain/shopify/CommerceEvents.ts`,
 * `domain/ingest/RecordedEvents.ts`, `domain/privacy/PrivacyEvents.ts`,
 * `domain/events/DeadLetterEvents.ts`, the job and shop events). Readers decode before they
 * use a field; an event that does not fit is an {@link UndecodableEvent} naming it (position,
 * type, stream) and the failed field, never a row written from half a payload.
 *
 * Schemas describe data as the application appends it and readers get it back: the store's
 * own sealing under the shop's key (`src/eventstore/EventSealing.ts`) is opened before any
 * reader sees the data, so it is not part of them.
 */
import { Result, Schema } from "effect"

/** A stored event's data that does not fit its type's schema. */
export class UndecodableEvent extends Schema.TaggedError<UndecodableEvent>()("UndecodableEvent", {
  position: Schema.Number,
  type: Schema.String,
  streamId: Schema.String,
  /** Which field failed and how (the schema's own message, with the path). */
  reason: Schema.String,
  message: Schema.String
}) {}

/** The envelope fields an {@link UndecodableEvent} names. */
export interface StoredEventRef {
  readonly position: number
  readonly type: string
  readonly streamId: string
}

/** A map from event type to the schema of its data (each area exports one; none needs services to decode). */
export type EventDataSchemas = { readonly [type: string]: Schema.Decoder<unknown> }

/** The failure for `event` whose data (or the `part` of it named) does not decode. */
export const undecodableEvent = (event: StoredEventRef, reason: string, part?: string): UndecodableEvent =>
  new UndecodableEvent({
    position: event.position,
    type: event.type,
    streamId: event.streamId,
    reason,
    message: `event at position ${event.position} (${event.type} on ${event.streamId}): ${part ?? "its data"} does not decode: ${reason}`
  })

/** A schema error's text on one line: `Expected string at ["order_id"]; Missing key at ["topic"]`. */
const oneLine = (message: string): string =>
  message.split("\n").reduce<Array<string>>((issues, line) => {
    if (/^\s/.test(line) && issues.length > 0) issues[issues.length - 1] += ` ${line.trim()}`
    else if (line.trim() !== "") issues.push(line.trim())
    return issues
  }, []).join("; ")

const decoders = new WeakMap<Schema.Decoder<unknown>, (input: unknown) => Result.Result<unknown, Schema.SchemaError>>()

const decoderOf = (schema: Schema.Decoder<unknown>) => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownResult(schema, { errors: "all" })
    decoders.set(schema, decode)
  }
  return decode
}

/**
 * Decodes `data` with `schema`, failing with an {@link UndecodableEvent} that names the event
 * and every failed field. Unknown fields are ignored (a newer writer may add some); `part`
 * names what was decoded when it is not the event's data itself (`its sealed record`).
 */
export const decodeEventData = <S extends Schema.Decoder<unknown>>(
  schema: S,
  event: StoredEventRef,
  data: unknown,
  part?: string
): Result.Result<S["Type"], UndecodableEvent> => {
  const decoded = decoderOf(schema)(data)
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success as S["Type"])
    : Result.fail(undecodableEvent(event, oneLine(decoded.failure.message), part))
}
