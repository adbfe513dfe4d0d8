/**
 * The application's shop handlers: message type → handler. Areas register their handlers
 * here as they are built (Flowmend jobs, webhooks, automations). A message nobody handles is
 * a permanent failure: it is dead-lettered with a clear reason, never silently dropped.
 */
import { Effect, Layer } from "effect"
import { type HandlerContext, PermanentFailure, ShopHandlers } from "./ShopHandlers.ts"

export type Handler = ShopHandlers["Service"]["handle"]

export const makeDispatcher = (handlers: ReadonlyMap<string, Handler>): ShopHandlers["Service"] => ({
  handle: (ctx: HandlerContext) => {
    const handler = handlers.get(ctx.message.type)
    return handler === undefined
      ? Effect.fail(new PermanentFailure({ reason: `no handler for message type ${ctx.message.type}` }))
      : handler(ctx)
  }
})

export const layer = Layer.succeed(ShopHandlers, makeDispatcher(new Map()))
