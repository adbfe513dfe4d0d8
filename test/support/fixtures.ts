import type { AppendMetadata, NewEvent } from "../../domain/events/Envelope.ts"

export const meta = (correlationId = "corr-1"): AppendMetadata => ({
  correlationId,
  causationId: null,
  actor: { kind: "system", id: "test" }
})

export const ev = (type: string, data: unknown = {}, extra?: Partial<NewEvent>): NewEvent => ({ type, data, ...extra })
