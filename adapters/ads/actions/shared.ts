/** What the ad actions share: the account a trigger names, the object it is about, and the platforms' errors in the actions' terms. */
import { Effect, Result } from "effect"
import type { AdAccountPlatform } from "../../../domain/ads/AdAccounts.ts"
import { ActionPermanent, type ActionError, ActionTransient } from "../../../src/automation/ActionSteps.ts"
import { resolveAdAccount } from "../../../src/ads/AdAccounts.ts"
import { type AdError, type AdObjectRef, AdPlatforms } from "../../../src/ads/AdPlatform.ts"
import type { RequestedRun } from "../../../domain/automation/ExecutionRuns.ts"

export const asActionError = (e: AdError): ActionError => {
  switch (e._tag) {
    case "AdThrottled":
      return new ActionTransient({ message: `${e.platform} is throttling account ${e.accountId} (${e.signal})`, retryAfterMs: e.retryAfterMs })
    case "AdUnavailable":
      return new ActionTransient({ message: `${e.platform} did not answer: ${e.message}`, retryAfterMs: null })
    case "AdAuthExpired":
      return new ActionPermanent({ code: "reconnect_account", message: `the ${e.platform} account ${e.accountId} must be connected again (sumeru ads connect): ${e.message}` })
    case "AdRejected":
      return new ActionPermanent({ code: e.code.toLowerCase(), message: `${e.platform} refused: ${e.message}` })
    case "AdUnsupported":
      return new ActionPermanent({ code: "unsupported", message: e.message })
  }
}

const field = (payload: unknown, name: string): string | undefined => {
  const v = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[name] : undefined
  return typeof v === "string" && v.length > 0 ? v : undefined
}

/** The trigger's platform (a field of the ads triggers). */
const platformOf = (run: RequestedRun): AdAccountPlatform | undefined => {
  const p = field(run.triggerFields, "platform") ?? field(run.resourcePayload, "platform")
  return p === "google" || p === "meta" || p === "tiktok" ? p : undefined
}

/** The client and account a run acts on, and its object (`kind`, the resource's id, its ad group for a keyword). */
export const target = (shop: string, run: RequestedRun, kind: AdObjectRef["kind"]) =>
  Effect.gen(function*() {
    const platform = platformOf(run)
    if (platform === undefined) return yield* Effect.fail(new ActionPermanent({ code: "invalid_trigger", message: "the trigger names no ad platform (google, meta or tiktok)" }))
    const account = yield* Effect.mapError(
      resolveAdAccount(shop, platform, field(run.resourcePayload, "accountId")),
      (e) => new ActionTransient({ message: `the ad account could not be read (${e._tag})`, retryAfterMs: null })
    )
    if (Result.isFailure(account)) return yield* Effect.fail(new ActionPermanent({ code: "no_account", message: account.failure }))
    const client = (yield* AdPlatforms).client(platform)
    const adGroupId = field(run.resourcePayload, "adGroupId")
    const ref: AdObjectRef = { kind, id: run.resourceId, ...(adGroupId === undefined ? {} : { adGroupId }) }
    return { client, account: account.success, ref }
  })

/** Micros of a currency amount given in a rule (e.g. 12.5 → 12,500,000). */
export const micros = (amount: number) => Math.round(amount * 1_000_000)
/** Bids move in steps of 10,000 micros (one cent in most currencies). */
export const roundBid = (m: number) => Math.max(10_000, Math.round(m / 10_000) * 10_000)
export const amount = (m: number | null, currency: string) => (m === null ? "none" : `${(m / 1_000_000).toFixed(2)} ${currency}`)
