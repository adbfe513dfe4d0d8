/**
 * What the intelligence plane's daily pulls share (Search Console, Merchant Center, the site
 * audit): when the next run is due, how a shop's connected sources are configured and started at
 * boot, and how the findings' triggers leave — fire-and-forget after the commit, each with an id
 * derived from what it is about, so a run or report handled twice emits once.
 */
import { Effect } from "effect"
import type { encodeShopMessage, TriggerEmitted } from "../../domain/messages/ShopMessages.ts"
import { publishTrigger } from "../automation/TriggerHandlers.ts"
import { nameBasedUuid } from "../ids/NameBasedUuid.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"

/** The next `hour:minute` UTC after `now`. */
export const nextDailyAt = (now: Date, hour: number, minute = 0): Date => {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute))
  return at.getTime() > now.getTime() ? at : new Date(at.getTime() + 86_400_000)
}

/** A detector's trigger, stamped now, its id derived from `name` in `namespace`. */
export const detectorTrigger = (namespace: string, name: string, detector: string, trigger: Record<string, unknown>): TriggerEmitted => ({
  triggerId: nameBasedUuid(namespace, name),
  trigger: trigger as never,
  emittedAt: new Date().toISOString(),
  emittedBy: { kind: "detector", id: detector }
})

/** Publishes each trigger to the shop's actor; a failure is logged, never raised (the next run reports again). */
export const publishTriggers = (shop: string, triggers: ReadonlyArray<TriggerEmitted>, log: ShopLog["Service"]) =>
  Effect.forEach(triggers, (t) =>
    publishTrigger(shop, t).pipe(
      Effect.provideService(ShopLog, log),
      Effect.catchCause((c) => Effect.logWarning(`${t.trigger.event} of ${shop} not emitted`, c))
    ), { discard: true })

/**
 * `shop.myshopify.com=<value>,…` → [shop, value] pairs (shops lower-cased), or every entry that
 * is not one, described with `expected`.
 */
export const parseShopPairs = (
  text: string,
  valid: (value: string) => boolean,
  expected: string
): { readonly pairs: ReadonlyArray<readonly [string, string]>; readonly problems: ReadonlyArray<string> } => {
  const pairs: Array<readonly [string, string]> = []
  const problems: Array<string> = []
  for (const entry of text.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const at = entry.indexOf("=")
    const shop = at === -1 ? "" : entry.slice(0, at).trim().toLowerCase()
    const value = at === -1 ? "" : entry.slice(at + 1).trim()
    if (!/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(shop) || !valid(value)) problems.push(`"${entry}" is not shop.myshopify.com=${expected}`)
    else pairs.push([shop, value])
  }
  return { pairs, problems }
}

/**
 * Starts each pair's daily runs at boot: one message now (its id names the day, so every worker
 * starting the same day publishes it once); its handler sets the daily timer.
 */
export const kickOff = (what: string, pairs: ReadonlyArray<readonly [string, string]>, message: (value: string) => ReturnType<typeof encodeShopMessage>) =>
  Effect.forEach(pairs, ([shop, value]) => {
    const body = message(value)
    const messageId = `${body.type}:${shop}:${value}:${new Date().toISOString().slice(0, 10)}`
    return ShopLog.use((log) => log.publish({ shop, messageId, correlationId: messageId, ...body })).pipe(
      Effect.catchCause((c) => Effect.logWarning(`the ${what} of ${value} for ${shop} was not started`, c))
    )
  }, { discard: true })
