/**
 * Typed rejections of the job decider. A rejected command emits no events;
 * the actor maps the tag to its reply (HTTP maps them to status codes in one
 * place). `command` is the rejected command's `type`.
 */
import { Schema } from "effect"
import { JobStatus } from "./JobStatus.ts"

/** A command other than RequestJob reached a job that was never requested. */
export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  jobId: Schema.String,
  command: Schema.String
}) {}

/** RequestJob for an existing job with different inputs (an identical one is a no-op). */
export class JobAlreadyExists extends Schema.TaggedError<JobAlreadyExists>()("JobAlreadyExists", {
  jobId: Schema.String,
  inputHash: Schema.String
}) {}

/** StartJob on a job that is already RUNNING. */
export class JobAlreadyStarted extends Schema.TaggedError<JobAlreadyStarted>()("JobAlreadyStarted", {
  jobId: Schema.String
}) {}

/** A step that needs a RUNNING job reached a PENDING one. */
export class JobNotRunning extends Schema.TaggedError<JobNotRunning>()("JobNotRunning", {
  jobId: Schema.String,
  command: Schema.String,
  status: JobStatus
}) {}

/** Any progress on a job that is already COMPLETED or FAILED. */
export class JobAlreadyFinished extends Schema.TaggedError<JobAlreadyFinished>()("JobAlreadyFinished", {
  jobId: Schema.String,
  command: Schema.String,
  status: JobStatus
}) {}

/** A step arrived before the step it depends on (or after a step that rules it out). */
export class JobStepOutOfOrder extends Schema.TaggedError<JobStepOutOfOrder>()("JobStepOutOfOrder", {
  jobId: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

/** A fact was already recorded with different values (a re-delivery with the same values is a no-op). */
export class ConflictingJobRecord extends Schema.TaggedError<ConflictingJobRecord>()("ConflictingJobRecord", {
  jobId: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

/** A bulk mutation is never submitted (or re-uploaded) twice for the same chunk. */
export class ChunkAlreadySubmitted extends Schema.TaggedError<ChunkAlreadySubmitted>()("ChunkAlreadySubmitted", {
  jobId: Schema.String,
  command: Schema.String,
  chunkIndex: Schema.Number,
  bulkOperationId: Schema.String
}) {}

/** The command contradicts the job's own data (wrong job, impossible counts, oversized chunk…). */
export class InvalidJobCommand extends Schema.TaggedError<InvalidJobCommand>()("InvalidJobCommand", {
  jobId: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

/** Why a job cannot be undone. */
export const UndoRejection = Schema.Literals([
  "NOT_COMPLETED",
  "DRY_RUN",
  "UNDO_OF_UNDO",
  "ALREADY_UNDONE",
  "NOTHING_TO_UNDO",
  "NO_SNAPSHOT"
])
export type UndoRejection = typeof UndoRejection.Type

/** RequestUndo on a job that cannot be undone; `reason` says why. */
export class UndoNotAllowed extends Schema.TaggedError<UndoNotAllowed>()("UndoNotAllowed", {
  jobId: Schema.String,
  reason: UndoRejection,
  message: Schema.String
}) {}

/** Every way the job decider can reject a command. */
export type JobDecisionError =
  | JobNotFound
  | JobAlreadyExists
  | JobAlreadyStarted
  | JobNotRunning
  | JobAlreadyFinished
  | JobStepOutOfOrder
  | ConflictingJobRecord
  | ChunkAlreadySubmitted
  | InvalidJobCommand
  | UndoNotAllowed
