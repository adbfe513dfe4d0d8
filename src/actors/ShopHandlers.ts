/**
 * What a shop actor does with a message: decide, from the message and the shop's state,
 * which events to append (atomically, with the message's fence), which timers to set, and
 * which side effects to start after the commit. The runtime turns this into I/O.
 */
import { Context, Effect, Result, Schema } from "effect"
import type { ExpectedVersion, NewEvent } from "../../domain/events/Envelope.ts"
import { type BodyOf, decodeShopMessage, type ShopMessageType } from "../../domain/messages/ShopMessages.ts"
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
  /** The message it fires (`encodeShopMessage` gives the wire form of a catalog message). */
  readonly type: string
  readonly version?: number | undefined
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

/** A handler's failures: a typed failure, or any tagged error (retried as transient). */
export type HandlerError = PermanentFailure | TransientFailure | { readonly _tag: string }

/** A decoded message of type `T`: its envelope and its typed body (`domain/messages`). */
export type TypedMessage<T extends ShopMessageType> = Omit<ShopMessage, "type" | "payload" | "version"> & BodyOf<T>

/** What the handler of messages of type `T` gets: the message decoded (once, by the dispatcher). */
export interface TypedHandlerContext<T extends ShopMessageType> extends Omit<HandlerContext, "message"> {
  readonly message: TypedMessage<T>
}

/** The handler of one message type. */
export type Handler<T extends ShopMessageType> = (ctx: TypedHandlerContext<T>) => Effect.Effect<Decision, HandlerError>

/** Message type → its handler; the application's registry has every type (`AppHandlers.ts`). */
export type HandlerRegistry = { readonly [T in ShopMessageType]: Handler<T> }

/**
 * The shop handlers of a registry: decodes each message once through the catalog
 * (`domain/messages/ShopMessages.ts`, upcasting older shapes) and hands its handler the typed
 * message. A message that does not decode, or that nobody here handles, is a permanent failure:
 * dead-lettered at once with the reason, never silently dropped.
 */
export const makeDispatcher = (handlers: Partial<HandlerRegistry>): ShopHandlers["Service"] => ({
  handle: (ctx: HandlerContext) => {
    const decoded = decodeShopMessage(ctx.message)
    if (Result.isFailure(decoded)) return Effect.fail(new PermanentFailure({ reason: decoded.failure.reason }))
    const body = decoded.success
    const handler = handlers[body.type] as Handler<typeof body.type> | undefined
    if (handler === undefined) return Effect.fail(new PermanentFailure({ reason: `no handler for message type ${body.type}` }))
    const { type: _type, payload: _payload, version: _version, ...envelope } = ctx.message
    return handler({ ...ctx, message: { ...envelope, ...body } as TypedMessage<typeof body.type> })
  }
})
