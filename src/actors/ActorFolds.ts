/**
 * A shop actor's folds of its own streams, kept between its messages. The actor is the only
 * writer of its shop's streams (ARCHITECTURE invariant 1), so once it has folded a stream it
 * can carry the fold forward with what it commits, and need not read the stream again: on the
 * decision plane's path a trigger used to cost five reads (rules, cooldowns, the shop's time
 * zone, the run twice) and costs one once the shop is warm (its new execution's run, still empty).
 *
 * What keeps it exact:
 * - only folds whose `evolve` reads what an append already knows (`AppendFold`: type, data,
 *   occurred-at and stream version) are kept; the data is passed through JSON as the store
 *   keeps it, and every event's occurred-at is stamped before the commit (`stampOccurredAt`),
 *   so the fold sees what a reader of the stream would;
 * - a fold is carried forward only after its commit returned; an event with its own id (an
 *   idempotent re-append may add nothing) or an expectation that does not match drops it
 *   instead, to be read again;
 * - the runtime forgets everything on a failed or duplicate commit, and an actor lives within
 *   one incarnation of its partition: a hand-over starts from the store;
 * - a customer's or the shop's data keys shredded (`privacy/Compliance.ts`) forget everything
 *   too, so nothing they sealed stays readable in memory ({@link forgetFolds}).
 *
 * A busy shop's actor may never go idle, and so never read its streams again: it writes their
 * snapshots itself every `SNAPSHOT_EVERY` events it carried forward (`EventStore.snapshotEvery`),
 * as a load would, so the next owner after a restart or a hand-over does not fold the whole stream.
 * A handler outside an actor (a CLI command, a test) reads from the store, as before.
 */
import { Context, Effect, Option } from "effect"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { type AppendFold, EventStore, type PersistenceError } from "../eventstore/EventStore.ts"
import type { Append } from "./ShopHandlers.ts"

/** A stream folded: the state and the stream version of the last event in it. */
export interface FoldedState<S> {
  readonly state: S
  readonly version: number
}

/** A kept fold: its state, and how many events it carried forward since its stream's last snapshot. */
export interface KeptFold<S> extends FoldedState<S> {
  readonly unsaved: number
}

/** The running actor's memory of folded streams (provided to its handlers by the runtime). */
export class ActorFolds extends Context.Service<ActorFolds, {
  readonly shop: string
  readonly get: <S>(streamId: string, fold: AppendFold<S>) => KeptFold<S> | undefined
  readonly keep: <S>(streamId: string, fold: AppendFold<S>, folded: FoldedState<S>) => void
  /** The store has a snapshot of the stream at `version`. */
  readonly saved: <S>(streamId: string, fold: AppendFold<S>, version: number) => void
  readonly forget: () => void
}>()("sumeru/actors/ActorFolds") {}

/** Drops the running actor's folds (nothing outside an actor): they are read again when next needed. */
export const forgetFolds: Effect.Effect<void> = Effect.map(Effect.serviceOption(ActorFolds), (memory) => {
  if (Option.isSome(memory)) memory.value.forget()
})

/** `streamId` folded: from the actor's memory when it has folded it before, else from the store (and then remembered). */
export const loadFolded = <S>(streamId: string, fold: AppendFold<S>): Effect.Effect<FoldedState<S>, PersistenceError, EventStore> =>
  Effect.gen(function*() {
    const memory = yield* Effect.serviceOption(ActorFolds)
    const known = Option.isSome(memory) ? memory.value.get(streamId, fold) : undefined
    const store = yield* EventStore
    if (known !== undefined && Option.isSome(memory)) {
      if (store.snapshotEvery > 0 && known.unsaved >= store.snapshotEvery) {
        const { shop } = memory.value
        // the kept state is committed; best effort, as a load's snapshot is
        yield* store.saveSnapshot({ streamId, fold: fold.name, shop, schemaVersion: fold.version, streamVersion: known.version, state: known.state }, fold.schema).pipe(
          Effect.andThen(Effect.sync(() => memory.value.saved(streamId, fold, known.version))),
          Effect.catchCause((cause) => Effect.logWarning(`snapshot of ${streamId} at version ${known.version} not written`, cause))
        )
      }
      return { state: known.state, version: known.version }
    }
    const { state, version } = yield* store.loadFold(streamId, fold)
    if (Option.isSome(memory)) memory.value.keep(streamId, fold, { state, version })
    return { state, version }
  })

/**
 * Tells the running actor that `streamId` has no events yet (a stream this decision creates the
 * name of, such as a requested execution's run): its first load needs no read. Should it be
 * wrong, the first append to it expects no stream, conflicts, and the runtime forgets every fold.
 */
export const keepNewStream = <S>(streamId: string, fold: AppendFold<S>): Effect.Effect<void> =>
  Effect.map(Effect.serviceOption(ActorFolds), (memory) => {
    if (Option.isSome(memory) && memory.value.get(streamId, fold) === undefined) memory.value.keep(streamId, fold, { state: fold.initial(), version: 0 })
  })

/** Events without an occurred-at get `now`, as the store would give them; done before the commit so the fold sees the stored time. */
export const stampOccurredAt = (appends: ReadonlyArray<Append>, now: Date): ReadonlyArray<Append> =>
  appends.every((a) => a.events.every((e) => e.occurredAt !== undefined))
    ? appends
    : appends.map((a) => ({ ...a, events: a.events.map((e): NewEvent => (e.occurredAt === undefined ? { ...e, occurredAt: now } : e)) }))

interface Kept {
  readonly fold: AppendFold<unknown>
  state: unknown
  version: number
  /** The version of the stream's last snapshot written or read here (the load's version: its tail was short, or it wrote one). */
  savedAt: number
}

/** At most this many folds per actor (a busy shop's execution runs would otherwise pile up); the least recently used goes first. */
const CAPACITY = 64

/** One actor's folds: the service its handlers read through, carried forward by its commits. */
export const makeFoldMemory = (shop: string) => {
  /** Stream id → fold name → what is kept; `Map` order is recency of use. */
  const byStream = new Map<string, Map<string, Kept>>()

  const touch = (streamId: string, folds: Map<string, Kept>) => {
    byStream.delete(streamId)
    byStream.set(streamId, folds)
  }

  const keptOf = (streamId: string, fold: AppendFold<unknown>) => {
    const k = byStream.get(streamId)?.get(fold.name)
    return k === undefined || k.fold.version !== fold.version ? undefined : k
  }

  const service = ActorFolds.of({
    shop,
    get: <S>(streamId: string, fold: AppendFold<S>) => {
      const k = keptOf(streamId, fold as AppendFold<unknown>)
      if (k === undefined) return undefined
      touch(streamId, byStream.get(streamId)!)
      return { state: k.state as S, version: k.version, unsaved: k.version - k.savedAt }
    },
    saved: (streamId, fold, version) => {
      const k = keptOf(streamId, fold as AppendFold<unknown>)
      if (k !== undefined) k.savedAt = Math.max(k.savedAt, version)
    },
    keep: <S>(streamId: string, fold: AppendFold<S>, folded: FoldedState<S>) => {
      const folds = byStream.get(streamId) ?? new Map<string, Kept>()
      folds.set(fold.name, { fold: fold as AppendFold<unknown>, state: folded.state, version: folded.version, savedAt: folded.version })
      touch(streamId, folds)
      if (byStream.size > CAPACITY) byStream.delete(byStream.keys().next().value!)
    },
    forget: () => byStream.clear()
  })

  /** Carries the kept folds of the streams `appends` wrote forward (after their commit returned); a fold that throws is forgotten. */
  const committed = (appends: ReadonlyArray<Append>) => {
    try {
      carry(appends)
    } catch {
      byStream.clear()
    }
  }

  const carry = (appends: ReadonlyArray<Append>) => {
    for (const append of appends) {
      const folds = byStream.get(append.streamId)
      if (folds === undefined || append.events.length === 0) continue
      const expected = append.expected === "no_stream" ? 0 : append.expected
      const ownIds = append.events.some((e) => e.eventId !== undefined || e.occurredAt === undefined)
      // the events as a reader of the stream would see them, made once for all of its folds
      const events = ownIds ? [] : append.events.map((e) => ({
        type: e.type,
        data: e.data === undefined ? null : JSON.parse(JSON.stringify(e.data)),
        occurredAt: e.occurredAt!
      }))
      for (const [name, kept] of folds) {
        if (ownIds || (expected !== "any" && expected !== kept.version)) {
          folds.delete(name)
          continue
        }
        let { state, version } = kept
        for (const e of events) {
          version += 1
          state = kept.fold.evolve(state, { ...e, streamVersion: version })
        }
        kept.state = state
        kept.version = version
      }
      if (folds.size === 0) byStream.delete(append.streamId)
    }
  }

  return { service, committed, clear: service.forget }
}
