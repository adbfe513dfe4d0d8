/**
 * Bulk-metafield jobs (Flowmend, seed 002): Flow action validation, the
 * idempotency key, the job events and commands, the decider, and the
 * plain-language descriptions. Pure: no I/O.
 */
export * from "./MetafieldTypes.ts"
export * from "./JobParameters.ts"
export * from "./FlowActionInput.ts"
export * from "./inputHash.ts"
export * from "./JobStatus.ts"
export * from "./JobEvents.ts"
export * from "./JobCommands.ts"
export * from "./JobErrors.ts"
export * from "./JobDecider.ts"
export * from "./UndoGuard.ts"
export * from "./describe.ts"
export { formatBytes, formatCount, formatDuration, shortId, utf8ByteLength } from "./text.ts"
