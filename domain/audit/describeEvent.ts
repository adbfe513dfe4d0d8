/**
 * One plain-language line per event, for the audit log. Each area of the domain describes
 * its own events; anything not described yet still gets an honest generic line.
 */
import type { RecordedEvent } from "../events/Envelope.ts"

export type Describer = (event: RecordedEvent) => string | undefined

const describers: Array<Describer> = []

/** Areas register their describers at module load (pure: no I/O, just a table). */
export const registerDescriber = (describer: Describer): void => {
  describers.push(describer)
}

const actorLabel = (event: RecordedEvent): string => {
  switch (event.actor.kind) {
    case "webhook": return "a Shopify webhook"
    case "flow": return "a Shopify Flow action"
    case "user": return "a merchant user"
    case "operator": return "an operator"
    case "rule": return `automation rule ${event.actor.id}`
    case "system": return "Sumeru"
  }
}

export const describeEvent = (event: RecordedEvent): string => {
  for (const d of describers) {
    const line = d(event)
    if (line !== undefined) return line
  }
  return `${event.type} recorded on ${event.streamId} (version ${event.streamVersion}) by ${actorLabel(event)}`
}
