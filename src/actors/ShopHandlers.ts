/**
 * What a shop actor does with a message: decide, from the message and the shop's state,
 * which events to append (atomically, with the message's fence), which timers to set, and
 * which side effects to start after the commit. The runtime turns this into I/O.
 */
import { Context, Effect, Schema } from "effect"
import type { ExpectedVersion, NewEvent } from "../../domain/events/Envelope.ts"
import type { ShopMessage } from "../shoplog/ShopLog.ts"

export interface Append {
  readonly streamId: string
  readonly expected: ExpectedVersion
  readonly events: ReadonlyArray<NewEvent>
}

export interface ScheduledMessage {
  /** Timer id: also the message id when it fires, so a timer fires at most once. */
  readonly id: string
  readonly at: Date
  readonly type: string
  readonly payload: unknown
}

export interface Decision<R = never> {
  readonly appends: ReadonlyArray<Append>
  readonly schedule?: ReadonlyArray<ScheduledMessage> | undefined
  /** Timer ids to cancel in the same transaction. */
  readonly cancelTimers?: ReadonlyArray<string> | undefined
  /**
   * Long side effects (a Shopify bulk operation takes minutes): started after the commit as a
   * supervised fiber; they report back by publishing messages to the shop, never by writing.
   */
  readonly afterCommit?: Effect.Effect<void, never, R> | undefined
}

export const noDecision: Decision = { appends: [] }

/** Per-actor memory (state folded so far). Dropped on passivation or after a failure. */
export interface ActorMemory {
  readonly get: <A>(key: string) => A | undefined
  readonly set: <A>(key: string, value: A) => void
}

export interface HandlerContext {
  readonly shop: string
  readonly message: ShopMessage
  /** The message's log sequence (per-shop monotonic). */
  readonly sequence: number
  readonly attempt: number
  readonly memory: ActorMemory
}

/** Retrying cannot help (bad payload, unknown type, business rule): dead-letter at once. */
export class PermanentFailure extends Schema.TaggedError<PermanentFailure>()("PermanentFailure", {
  reason: Schema.String
}) {}

/** Worth retrying (network, throttling, a dependency down). */
export class TransientFailure extends Schema.TaggedError<TransientFailure>()("TransientFailure", {
  reason: Schema.String
}) {}

export class ShopHandlers extends Context.Service<ShopHandlers, {
  readonly handle: (ctx: HandlerContext) => Effect.Effect<Decision, PermanentFailure | TransientFailure | { readonly _tag: string }>
}>()("sumeru/actors/ShopHandlers") {}

/** One message type's handler. */
export type Handler = ShopHandlers["Service"]["handle"]

/**
 * The shop handlers of a table (message type → handler). A message nobody handles is a
 * permanent failure: it is dead-lettered with a clear reason, never silently dropped.
 */
export const makeDispatcher = (handlers: ReadonlyMap<string, Handler>): ShopHandlers["Service"] => ({
  handle: (ctx: HandlerContext) => {
    const handler = handlers.get(ctx.message.type)
    return handler === undefined
      ? Effect.fail(new PermanentFailure({ reason: `no handler for message type ${ctx.message.type}` }))
      : handler(ctx)
  }
})
