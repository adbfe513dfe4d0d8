/**
 * Shopify webhook topics without a typed model yet are kept, raw, as `shopify.webhook_received`
 * events on the shop's `webhooks-<shop>` stream: never rejected, never lost, replayable once a
 * model exists.
 */
import { Effect } from "effect"
import type { Handler } from "../actors/AppHandlers.ts"

export const webhookHandlers: ReadonlyArray<readonly [string, Handler]> = [
  ["shopify.webhook_received", (ctx) =>
    Effect.succeed({
      appends: [{
        streamId: `webhooks-${ctx.shop}`,
        expected: "any",
        events: [{ type: "shopify.webhook_received", data: ctx.message.payload }]
      }]
    })]
]
