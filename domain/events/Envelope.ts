/**
 * The event envelope: what every stored event carries besides its payload.
 * Pure types and schemas; the event store adapters fill in positions and times.
 */
import { Schema } from "effect"

/** Who caused an event. Kept small and free of personal data. */
export const Actor = Schema.Struct({
  kind: Schema.Literals(["webhook", "user", "system", "rule", "flow", "operator"]),
  id: Schema.String
})
export type Actor = typeof Actor.Type

/**
 * Optimistic-concurrency expectation for an append.
 * - `"any"`: append whatever the stream's version is.
 * - `"no_stream"`: the stream must not exist yet.
 * - a number n ≥ 1: the stream's current version (its number of events) must be exactly n.
 *   0 is treated as `"no_stream"`.
 */
export type ExpectedVersion = "any" | "no_stream" | number

/** An event to append. Ids and times default to fresh values in the store. */
export interface NewEvent {
  readonly type: string
  readonly data: unknown
  /** UUIDv7; re-appending the same id is a no-op (idempotent append). */
  readonly eventId?: string | undefined
  readonly schemaVersion?: number | undefined
  readonly occurredAt?: Date | undefined
}

/** Metadata shared by all events of one append (one command, one cause). */
export interface AppendMetadata {
  readonly correlationId: string
  readonly causationId?: string | null | undefined
  readonly actor: Actor
  /** W3C trace context of the span that appended (the store fills it from the current span). */
  readonly traceparent?: string | null | undefined
}

/** A stored event as read back, after upcasting to the current schema version. */
export interface RecordedEvent<D = unknown> {
  /** Global position in the log: strictly increasing, readers never skip one. */
  readonly position: number
  readonly eventId: string
  readonly shop: string
  readonly streamId: string
  /** 1-based version of the stream after this event. */
  readonly streamVersion: number
  readonly type: string
  readonly schemaVersion: number
  readonly data: D
  readonly correlationId: string
  readonly causationId: string | null
  readonly actor: Actor
  readonly occurredAt: Date
  readonly recordedAt: Date
  /** The payload was stored sealed and its key has been shredded: `data` is null. */
  readonly redacted?: true
  /** The trace the event was appended in (absent when it was appended outside any span). */
  readonly traceparent?: string
}

export interface AppendResult {
  /** The stream's version after the append. */
  readonly nextVersion: number
  /** Global positions of the appended events; null when nothing was appended (idempotent repeat). */
  readonly firstPosition: number | null
  readonly lastPosition: number | null
  /** How many events were written (0 when every event id was already stored). */
  readonly appended: number
}
