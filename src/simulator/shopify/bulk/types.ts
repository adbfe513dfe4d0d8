/**
 * The shapes of bulk operations: the stored record and its type, status and error code,
 * the pace setting, and the job interface the query and mutation runners implement. It
 * imports nothing, so the registry (`operations.ts`), the runners and the resolvers share
 * these without depending on one another.
 */

export type BulkOperationType = "QUERY" | "MUTATION"
export type BulkOperationStatus = "CREATED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELING" | "CANCELED" | "EXPIRED"
export type BulkOperationErrorCode = "ACCESS_DENIED" | "INTERNAL_SERVER_ERROR" | "TIMEOUT"

/**
 * How operations progress:
 * - `"immediate"` (default): they start right after the submitting request returns and run
 *   as fast as possible (yielding to the event loop between chunks);
 * - `"manual"`: they stay CREATED until the test drives them (`start`, `step`, `complete`);
 * - `{ objectsPerSecond }`: real-time pacing (for demos), after `startDelayMs`.
 */
export type BulkPace = "immediate" | "manual" | { readonly objectsPerSecond: number; readonly startDelayMs?: number }

/** A bulk operation as stored by the simulator (also the GraphQL source object). */
export interface BulkOperationRecord {
  readonly __typename: "BulkOperation"
  readonly id: number
  readonly type: BulkOperationType
  status: BulkOperationStatus
  errorCode: BulkOperationErrorCode | null
  readonly createdAt: number
  completedAt: number | null
  objectCount: number
  rootObjectCount: number
  fileSize: number | null
  /** Bytes of JSONL written so far (progress; the output streams to disk as it is produced). */
  bytesWritten: number
  /** The submitted query (QUERY) or mutation document (MUTATION). */
  readonly query: string
  /** MUTATION only: the staged upload path it was submitted with. */
  readonly stagedUploadPath: string | null
  readonly clientIdentifier: string | null
  readonly groupObjects: boolean
  readonly apiVersion: string
  resultPath: string | null
  partialPath: string | null
}

/** The work of one operation, advanced in steps. */
export interface BulkJob {
  readonly objectCount: number
  readonly rootObjectCount: number
  readonly bytesWritten: number
  /** Processes about `budget` objects; resolves true when there is nothing left. */
  step(budget: number): Promise<boolean>
  /** Closes the output; resolves to its size in bytes. */
  finish(): Promise<number>
  /** Closes and deletes the output. */
  abort(): Promise<void>
}
