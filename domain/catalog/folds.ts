/**
 * How to fold a stream's events into state, by stream category (time travel for operators:
 * `sumeru streams show <streamId> --at-version N | --at-time T`).
 *
 * The category is the stream id's prefix before the first `-` (`job-<uuid>` → `job`).
 * A category with a domain decider folds with the decider's own `evolve`, over events decoded
 * with the domain's schemas, so the CLI shows exactly the state the actor would rebuild.
 * Anything else gets the generic fold: counts, first/last event, and a shallow merge of the
 * event data. Pure: no I/O; events arrive one at a time, so a fold runs in constant memory.
 */
import { Predicate, Result } from "effect"
import type { RecordedEvent } from "../events/Envelope.ts"
import { decodeJobEvent, evolve as evolveJob, initialState as initialJobState } from "../jobs/index.ts"
import type { JobState } from "../jobs/index.ts"

/** An event the fold could not apply (its data did not decode); it is skipped, not guessed at. */
export interface SkippedEvent {
  readonly streamVersion: number
  readonly type: string
  readonly reason: string
}

export interface StreamFold<S> {
  /** The category this fold is registered for (`*` for the generic fold). */
  readonly category: string
  readonly description: string
  readonly initialState: () => S
  /** Applies one event, or says why it cannot (the event is then skipped). */
  readonly evolve: (state: S, event: RecordedEvent) => Result.Result<S, string>
}

/** The state of the generic fold: what can be said about any stream without knowing its domain. */
export interface GenericState {
  readonly version: number
  readonly eventCount: number
  readonly firstEventType: string | null
  readonly firstEventAt: string | null
  readonly lastEventType: string | null
  readonly lastEventAt: string | null
  /** Every event's data merged key by key (later events win); non-object data is ignored. */
  readonly data: { readonly [key: string]: unknown }
}

export const genericFold: StreamFold<GenericState> = {
  category: "*",
  description: "generic: version, event count, first/last event, shallow merge of event data",
  initialState: () => ({
    version: 0,
    eventCount: 0,
    firstEventType: null,
    firstEventAt: null,
    lastEventType: null,
    lastEventAt: null,
    data: {}
  }),
  evolve: (state, event) => {
    const at = event.occurredAt.toISOString()
    const data = Predicate.isObject(event.data) ? { ...state.data, ...event.data } : state.data
    return Result.succeed({
      version: event.streamVersion,
      eventCount: state.eventCount + 1,
      firstEventType: state.firstEventType ?? event.type,
      firstEventAt: state.firstEventAt ?? at,
      lastEventType: event.type,
      lastEventAt: at,
      data
    })
  }
}

/**
 * Bulk-metafield jobs: the job decider's `evolve` over decoded job events. The envelope's
 * `type` is authoritative, so it is put on the payload before decoding.
 */
export const jobFold: StreamFold<JobState> = {
  category: "job",
  description: "bulk-metafield job (domain/jobs decider)",
  initialState: initialJobState,
  evolve: (state, event) => {
    const payload = Predicate.isObject(event.data) ? { ...event.data, type: event.type } : event.data
    const decoded = decodeJobEvent(payload)
    return Result.isSuccess(decoded)
      ? Result.succeed(evolveJob(state, decoded.success))
      : Result.fail(`not a valid ${event.type} event: ${decoded.failure.message}`)
  }
}

// `unknown` state: each entry is used with its own initial state only.
const registry: ReadonlyMap<string, StreamFold<any>> = new Map<string, StreamFold<any>>([
  [jobFold.category, jobFold]
])

/** The stream id's prefix before the first `-`, or the whole id when it has none. */
export const categoryOf = (streamId: string): string => {
  const dash = streamId.indexOf("-")
  return dash === -1 ? streamId : streamId.slice(0, dash)
}

/** The categories with a domain fold (the generic fold covers every other one). */
export const knownCategories = (): ReadonlyArray<string> => [...registry.keys()]

/** The fold for a stream: its category's, or the generic one. */
export const foldFor = (streamId: string): StreamFold<unknown> =>
  registry.get(categoryOf(streamId)) ?? (genericFold as StreamFold<unknown>)

export interface FoldState {
  readonly fold: StreamFold<unknown>
  readonly state: unknown
  /** Stream version of the last event seen (applied or skipped). */
  readonly version: number
  readonly eventCount: number
  /** The first {@link MAX_SKIPPED_REPORTED} skipped events. */
  readonly skipped: ReadonlyArray<SkippedEvent>
  readonly skippedCount: number
}

/** Skipped events kept in the result; more are only counted (memory stays bounded). */
export const MAX_SKIPPED_REPORTED = 20

export const startFold = (streamId: string): FoldState => {
  const fold = foldFor(streamId)
  return { fold, state: fold.initialState(), version: 0, eventCount: 0, skipped: [], skippedCount: 0 }
}

/** One step; events must come in stream-version order. */
export const stepFold = (acc: FoldState, event: RecordedEvent): FoldState => {
  const next = acc.fold.evolve(acc.state, event)
  if (Result.isSuccess(next)) {
    return { ...acc, state: next.success, version: event.streamVersion, eventCount: acc.eventCount + 1 }
  }
  const skipped = acc.skipped.length < MAX_SKIPPED_REPORTED
    ? [...acc.skipped, { streamVersion: event.streamVersion, type: event.type, reason: next.failure }]
    : acc.skipped
  return {
    ...acc,
    skipped,
    skippedCount: acc.skippedCount + 1,
    version: event.streamVersion,
    eventCount: acc.eventCount + 1
  }
}

/** Folds a whole sequence (tests and small streams; the CLI steps through a stream). */
export const foldStream = (streamId: string, events: Iterable<RecordedEvent>): FoldState => {
  let acc = startFold(streamId)
  for (const e of events) acc = stepFold(acc, e)
  return acc
}
