/**
 * `message.dead_lettered`, on the shop's `deadletters-<shop>` stream: a shop message the
 * actor gave up on (a permanent failure, a message that does not decode, or retries
 * exhausted), recorded in the same transaction that writes its `dead_letters` row and marks
 * it handled. The message itself stays in `dead_letters` for operators (`sumeru deadletters`);
 * the event says which, why and after how many attempts. The store seals it under the shop's
 * key (its error text may quote the message) and opens it for readers.
 *
 * Structural, so that stored events keep decoding; unknown fields are ignored.
 */
import { Schema } from "effect"
import type { EventDataSchemas } from "./EventData.ts"

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const MessageDeadLettered = Schema.Struct({
  messageId: Schema.String,
  /** The message's type as it was on the wire (an unknown one included). */
  messageType: Schema.String,
  error: Schema.String,
  attempts: NonNegativeInt,
  /** A permanent failure (or undecodable message), rather than retries exhausted. */
  permanent: Schema.Boolean,
  /** The message's sequence in the shop log. */
  sequence: NonNegativeInt
})
export type MessageDeadLettered = typeof MessageDeadLettered.Type

/** Each dead-letter event type and the schema of its data. */
export const DEAD_LETTER_EVENTS = {
  "message.dead_lettered": MessageDeadLettered
} as const satisfies EventDataSchemas
export type DeadLetterEventType = keyof typeof DEAD_LETTER_EVENTS
