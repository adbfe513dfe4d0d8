/**
 * How projections read an event's data: decoded with its type's schema before any field is
 * used (the schemas live in `domain/`, beside the code that appends the events).
 *
 * An event that does not decode stops the projection at that event rather than being passed
 * over: the batch's transaction rolls back (its checkpoint stays before the event), the
 * runner logs the failure — an `UndecodableEvent` naming the position, type, stream and the
 * failed field — and retries with backoff, and `projections status` shows the projection
 * stalled with its lag. A read model is never written from half a payload. (`Projection.apply`
 * fails only with `SqlError`, so the failure travels as a defect carrying the typed error.)
 */
import { Effect, Result, type Schema } from "effect"
import { decodeEventData } from "../domain/events/EventData.ts"
import type { RecordedEvent } from "../domain/events/Envelope.ts"

/**
 * `event`'s data decoded with `schema` — or, given `value` and `part`, a value taken from it
 * (a sealed record once opened) — failing the projection with an `UndecodableEvent` when it
 * does not fit.
 */
export const decodeData = <S extends Schema.Decoder<unknown>>(
  schema: S,
  event: RecordedEvent,
  value: unknown = event.data,
  part?: string
): Effect.Effect<S["Type"]> =>
  Result.match(decodeEventData(schema, event, value, part), {
    onSuccess: (data) => Effect.succeed(data),
    onFailure: (error) => Effect.die(error)
  })
