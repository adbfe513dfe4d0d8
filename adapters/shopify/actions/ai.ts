/**
 * The Shopify actions' one way to a model: the AI gateway, with its errors in the actions' terms —
 * the shop's AI rate limit or budget defers the execution (`ActionDeferred`, until the limit
 * frees), a refusal, a bad request or a prompt no model fits fails it, and providers that all
 * failed (or a ledger out of reach) are worth retrying.
 */
import { Effect } from "effect"
import { AiGateway, type GenerateRequest } from "../../../src/ai/AiGateway.ts"
import { ActionDeferred, ActionPermanent, ActionTransient } from "../../../src/automation/ActionSteps.ts"

export const askGateway = (request: GenerateRequest) =>
  AiGateway.use((gateway) =>
    gateway.generate(request).pipe(
      Effect.catchTags({
        AiLimitError: (e) => Effect.fail(new ActionDeferred({ code: e.code, message: e.message, retryAfterMs: e.retryAfterSec * 1000 })),
        AiCallFailed: (e) =>
          Effect.fail(
            e.retryable
              ? new ActionTransient({ message: `no AI provider answered: ${e.message}`, retryAfterMs: null })
              : new ActionPermanent({ code: "ai_failed", message: `the AI gateway could not answer: ${e.message}` })
          )
      })
    ))
