/**
 * `message.dead_lettered` (`domain/events/DeadLetterEvents.ts`) decodes as stored, and one that
 * does not fit is refused with the field that failed — through `decodeEventData`, whose
 * failure names the event (position, type, stream) for the projection runner's log.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { DEAD_LETTER_EVENTS } from "../../../domain/events/DeadLetterEvents.ts"
import { decodeEventData } from "../../../domain/events/EventData.ts"
import { decoded, refusal, storedEvents } from "../fixtures/events/storedEvents.ts"

const [stored] = storedEvents("deadletters")
const schema = DEAD_LETTER_EVENTS["message.dead_lettered"]

describe("dead-letter events", () => {
  it("decodes a stored message.dead_lettered", () => {
    expect(stored!.type).toBe("message.dead_lettered")
    expect(decoded(schema, stored!.type, stored!.data)).toEqual(Result.succeed(stored!.data))
  })

  it("refuses one whose field does not fit, naming every failed field and the event", () => {
    const refused = refusal(schema, "message.dead_lettered", { ...stored!.data, attempts: "1", permanent: undefined })
    expect(refused.reason).toMatch(/\["attempts"\]/)
    expect(refused.reason).toMatch(/\["permanent"\]/)
    const failure = decodeEventData(schema, { position: 7, type: "message.dead_lettered", streamId: "deadletters-a.myshopify.com" }, null)
    expect(Result.isFailure(failure) && failure.failure).toMatchObject({
      _tag: "UndecodableEvent",
      position: 7,
      type: "message.dead_lettered",
      streamId: "deadletters-a.myshopify.com"
    })
    expect(Result.isFailure(failure) && failure.failure.message).toMatch(/^event at position 7 \(message\.dead_lettered on deadletters-a\.myshopify\.com\): its data does not decode: /)
  })
})
