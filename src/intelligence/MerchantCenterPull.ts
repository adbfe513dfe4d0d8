/**
 * The daily Merchant Center pull of each connected account (issue 13 §1, §3), on a durable timer
 * per shop and account in the shop's actor, due every day at 04:30 UTC:
 * - the handler folds what the shop's `mc-<shop>` stream knows (each offer's last status per
 *   destination) and, after the commit, the pull lists the account's products with their
 *   statuses and keeps only the edges (`domain/intelligence/merchantStatus.ts`): an offer newly
 *   disapproved for a destination, or approved again after a disapproval;
 * - the edges go back to the actor (`mc.status_report`), which records each one
 *   (`mc.product_status_changed`, checked again against what it knows then) and, after the commit,
 *   emits `mc.product_disapproved` / `mc.product_approved` about the Shopify products (one
 *   resource per product, naming the destinations that changed)
 *   (`gid://shopify/Product/<id>`, what `hide_disapproved_product` acts on), fire-and-forget with
 *   ids derived from the account and the report.
 * A pull that fails is logged and recorded nowhere; the next day's timer is set either way.
 */
import { Effect, Schema, Stream } from "effect"
import { MAX_TRIGGER_RESOURCES } from "../../domain/automation/Triggers.ts"
import { type KnownStatuses, type StatusChange, statusChanges } from "../../domain/intelligence/merchantStatus.ts"
import { encodeShopMessage, type TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { type Decision, type HandlerRegistry, type ScheduledMessage, TransientFailure } from "../actors/ShopHandlers.ts"
import { detectorTrigger, kickOff, nextDailyAt, parseShopPairs, publishTriggers } from "./DailyPulls.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import { MerchantCenter } from "./MerchantCenter.ts"

export const merchantStreamId = (shop: string) => `mc-${shop}`
export const merchantPullTimerId = (shop: string, accountId: string) => `mc.status:${shop}:${accountId}`

export const merchantPullTimer = (shop: string, accountId: string, now: Date): ScheduledMessage => ({
  id: merchantPullTimerId(shop, accountId),
  at: nextDailyAt(now, 4, 30),
  ...encodeShopMessage({ type: "mc.status_pull", payload: { accountId } })
})

const Changed = Schema.Struct({ offerId: Schema.String, destination: Schema.String, status: Schema.Literals(["approved", "disapproved"]) })
const decodeChanged = Schema.decodeUnknownOption(Changed)

/** What the shop's stream knows of the account's offers. */
const knownStatuses = (store: EventStore["Service"], shop: string) =>
  Effect.map(Stream.runCollect(store.readStream(merchantStreamId(shop))), (events) => {
    const known = new Map<string, "approved" | "disapproved">()
    for (const e of events) {
      if (e.type !== "mc.product_status_changed") continue
      const d = decodeChanged(e.data)
      if (d._tag === "Some") known.set(`${d.value.offerId}\u0000${d.value.destination}`, d.value.status)
    }
    return known as KnownStatuses
  })

const productGid = (productId: string) => (productId.startsWith("gid://") ? productId : /^\d+$/.test(productId) ? `gid://shopify/Product/${productId}` : productId)

const byProduct = (edges: ReadonlyArray<StatusChange>): ReadonlyMap<string, ReadonlyArray<StatusChange>> => {
  const groups = new Map<string, Array<StatusChange>>()
  for (const c of edges) {
    const gid = productGid(c.productId)
    groups.set(gid, [...(groups.get(gid) ?? []), c])
  }
  return groups
}

/** The two triggers of a report's edges (each about at most 50 products). */
export const merchantTriggers = (shop: string, accountId: string, reportId: string, changes: ReadonlyArray<StatusChange>): ReadonlyArray<TriggerEmitted> =>
  (["disapproved", "approved"] as const).flatMap((status) => {
    const edges = changes.filter((c) => c.status === status)
    if (edges.length === 0) return []
    return [detectorTrigger("sumeru.mc", `${shop}\u0000${accountId}\u0000${reportId}\u0000${status}`, "merchant-center", {
      event: `mc.product_${status}`,
      // one resource per product (a rule acts on a product once), naming every destination that changed
      resources: [...byProduct(edges).entries()].slice(0, MAX_TRIGGER_RESOURCES).map(([gid, cs]) => ({
        resourceType: "product",
        resourceId: gid,
        payload: {
          ...(cs[0]!.title === null ? {} : { title: cs[0]!.title }),
          offerId: cs[0]!.offerId,
          destination: [...new Set(cs.map((c) => c.destination))].sort().join(", "),
          issues: [...new Map(cs.flatMap((c) => c.issues).map((i) => [`${i.code}\u0000${i.description}`, i])).values()]
        }
      }))
    })]
  })

export const makeMerchantCenterHandlers = Effect.gen(function*() {
  const log = yield* ShopLog
  const store = yield* EventStore
  const merchantCenter = yield* MerchantCenter
  return {
    "mc.status_pull": (ctx) =>
      Effect.gen(function*() {
        const { accountId } = ctx.message.payload
        const now = new Date()
        const known = yield* knownStatuses(store, ctx.shop)
        const pull = Effect.gen(function*() {
          const statuses = yield* merchantCenter.statuses(accountId)
          const changes = statusChanges(known, statuses)
          const reportId = `${now.toISOString().slice(0, 10)}:${ctx.message.messageId}`
          const messageId = `mc.status_report:${ctx.shop}:${accountId}:${reportId}`
          yield* log.publish({ shop: ctx.shop, messageId, correlationId: messageId, ...encodeShopMessage({ type: "mc.status_report", payload: { accountId, reportId, changes } }) })
        }).pipe(Effect.catchCause((c) => Effect.logWarning(`the Merchant Center pull of ${accountId} for ${ctx.shop} failed (the next day's pull tries again)`, c)))
        const decision: Decision = { appends: [], schedule: [merchantPullTimer(ctx.shop, accountId, now)], afterCommit: pull }
        return decision
      }).pipe(Effect.catchTag("PersistenceError", (e) => Effect.fail(new TransientFailure({ reason: `event store: ${e.operation}` })))),
    "mc.status_report": (ctx) =>
      Effect.gen(function*() {
        const { accountId, reportId } = ctx.message.payload
        const known = yield* knownStatuses(store, ctx.shop)
        // checked again: a report handled twice, or overtaken by a newer one, records nothing twice
        const changes = ctx.message.payload.changes.filter((c) => (known.get(`${c.offerId}\u0000${c.destination}`) ?? null) !== c.status &&
          (c.status === "disapproved" || known.get(`${c.offerId}\u0000${c.destination}`) === "disapproved"))
        if (changes.length === 0) return { appends: [] } satisfies Decision
        const triggers = merchantTriggers(ctx.shop, accountId, reportId, changes)
        const decision: Decision = {
          appends: [{
            streamId: merchantStreamId(ctx.shop),
            expected: "any",
            events: changes.map((c) => ({ type: "mc.product_status_changed", data: { accountId, ...c } }))
          }],
          afterCommit: publishTriggers(ctx.shop, triggers, log)
        }
        return decision
      }).pipe(Effect.catchTag("PersistenceError", (e) => Effect.fail(new TransientFailure({ reason: `event store: ${e.operation}` }))))
  } satisfies Partial<HandlerRegistry>
})

/** `MERCHANT_CENTER_ACCOUNTS`: `shop.myshopify.com=123456789,…`. */
export const parseMerchantAccounts = (text: string) => parseShopPairs(text, (account) => /^\d{1,20}$/.test(account), "<numeric account id>")

/** Starts each connected account's daily pulls at boot. */
export const kickOffMerchantPulls = (accounts: ReadonlyArray<readonly [string, string]>) =>
  kickOff("Merchant Center pull", accounts, (accountId) => encodeShopMessage({ type: "mc.status_pull", payload: { accountId } }))
