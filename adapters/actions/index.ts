/**
 * The registry of the decision plane's actions (issue 11 §4, issue 12 §5): one file per action,
 * each exporting its `meta` (the seed's — defined with the pure registry in
 * `domain/automation/Actions.ts`, which dispatch and the rule validator read) and its `snapshot`,
 * `handler` and `undoHandler`, grouped by the channel they act on: Shopify
 * (`adapters/shopify/actions/`), the ad platforms (`adapters/ads/actions/`), and the other
 * channels (`adapters/channels/actions/`).
 */
import { Effect, Layer } from "effect"
import { type ActionImplementation, ActionSteps } from "../../src/automation/ActionSteps.ts"
import type { EmailSender } from "../../src/channels/Email.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { ShopLog } from "../../src/shoplog/ShopLog.ts"
import type { AdPlatforms } from "../../src/ads/AdPlatform.ts"
import type { PiiVault } from "../../src/secrets/Secrets.ts"
import type { AiGateway } from "../../src/ai/AiGateway.ts"
import { adjustKeywordBid, capCampaignBudget, pauseAdKeyword } from "../ads/actions/adActions.ts"
import { notifyMerchant } from "../channels/actions/notifyMerchant.ts"
import { sendCartRecovery, ShopWhatsAppNumbers } from "../channels/actions/sendCartRecovery.ts"
import type { WhatsAppSender } from "../../src/channels/WhatsApp.ts"
import { SHOPIFY_ACTIONS } from "../shopify/actions/index.ts"
import type { ShopifyAdmin } from "../shopify/ShopifyAdmin.ts"

/** What the actions use: the Admin API, the shop log and the event store (bulk jobs), e-mail, WhatsApp, the ad platforms, the AI gateway and the vault (credentials, customers' data). */
type Needs = ShopifyAdmin | ShopLog | EventStore | EmailSender | AdPlatforms | PiiVault | WhatsAppSender | AiGateway

/** Action key → its implementation. */
export const ACTIONS: Readonly<Record<string, ActionImplementation<Needs>>> = {
  ...SHOPIFY_ACTIONS,
  notify_merchant: notifyMerchant,
  send_cart_recovery_message: sendCartRecovery,
  pause_ad_keyword: pauseAdKeyword,
  adjust_keyword_bid: adjustKeywordBid,
  cap_campaign_budget: capCampaignBudget
}

/** `ActionSteps` over every action (requires what they use). */
export const layer = Layer.effect(
  ActionSteps,
  Effect.gen(function*() {
    const needs = yield* Effect.context<Needs>()
    // a reference (it has a default) is read where the effect runs: give the actions the one this layer was built with
    const numbers = yield* ShopWhatsAppNumbers
    const run = <A, E>(effect: Effect.Effect<A, E, Needs>) => effect.pipe(Effect.provideContext(needs), Effect.provideService(ShopWhatsAppNumbers, numbers))
    const provided = new Map(Object.entries(ACTIONS).map(([key, a]): [string, ActionImplementation] => [key, {
      snapshot: (shop, r) => run(a.snapshot(shop, r)),
      handler: (shop, r, before) => run(a.handler(shop, r, before)),
      undoHandler: (shop, r, before, after, force) => run(a.undoHandler(shop, r, before, after, force))
    }]))
    return ActionSteps.of({ implementation: (key) => provided.get(key) })
  })
)
