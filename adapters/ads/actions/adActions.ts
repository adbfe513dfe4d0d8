/**
 * The decision plane's ad actions (issue 12 §2), each with its snapshot, handler and undoHandler,
 * through the shop's connected account on the trigger's platform (`src/ads/`):
 *
 * - `pause_ad_keyword` (`ads.keyword_underperforming`): pauses the keyword; undo enables it again.
 * - `adjust_keyword_bid` (`ads.keyword_overperforming`): the bid × (1 + percent/100), at most the
 *   cap, in whole cents; undo restores the previous bid.
 * - `cap_campaign_budget` (`ads.spend_anomaly`): the daily budget down to the cap (never up);
 *   undo restores the previous budget.
 *
 * Each handler reads the object first and changes only what differs (a re-run after a crash
 * changes nothing twice); each undo refuses with `changed_since` when the object is no longer as
 * the action left it (someone changed it on the platform since), unless forced.
 */
import { Effect } from "effect"
import { ActionPermanent, type ActionImplementation, ChangedSince } from "../../../src/automation/ActionSteps.ts"
import type { AdObject, AdPlatforms } from "../../../src/ads/AdPlatform.ts"
import type { EventStore } from "../../../src/eventstore/EventStore.ts"
import type { PiiVault } from "../../../src/secrets/Secrets.ts"
import { amount, asActionError, micros, roundBid, target } from "./shared.ts"

type Needs = AdPlatforms | EventStore | PiiVault

const snapshotOf = (o: AdObject) => ({ status: o.status, bidMicros: o.bidMicros, dailyBudgetMicros: o.dailyBudgetMicros, currency: o.currency, name: o.name })
type Snapshot = ReturnType<typeof snapshotOf>

export const pauseAdKeyword: ActionImplementation<Needs> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const t = yield* target(shop, run, "keyword")
      return snapshotOf(yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError))
    }),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as Snapshot
      const t = yield* target(shop, run, "keyword")
      const now = yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError)
      if (now.status === "ENABLED") yield* Effect.mapError(t.client.updateObject(t.account, t.ref, { status: "PAUSED" }), asActionError)
      return { after: { status: "PAUSED", paused: was.status === "ENABLED" }, summary: was.status === "ENABLED" ? `paused keyword ${was.name}` : `keyword ${was.name} was already ${was.status.toLowerCase()}` }
    }),
  undoHandler: (shop, run, _before, after, force) =>
    Effect.gen(function*() {
      const did = after as { readonly paused: boolean }
      if (!did.paused) return { summary: "nothing to restore (the keyword was not enabled before)" }
      const t = yield* target(shop, run, "keyword")
      const now = yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError)
      if (now.status !== "PAUSED" && !force) return yield* Effect.fail(new ChangedSince({ message: `the keyword is ${now.status.toLowerCase()} now, not paused` }))
      yield* Effect.mapError(t.client.updateObject(t.account, t.ref, { status: "ENABLED" }), asActionError)
      return { summary: `enabled keyword ${now.name} again` }
    })
}

export const adjustKeywordBid: ActionImplementation<Needs> = {
  snapshot: pauseAdKeyword.snapshot,
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as Snapshot
      if (was.bidMicros === null) return yield* Effect.fail(new ActionPermanent({ code: "no_bid", message: `keyword ${was.name} has no bid of its own (it follows its ad group's)` }))
      const percent = typeof run.params.percent === "number" ? run.params.percent : 10
      const cap = typeof run.params.cap === "number" && run.params.cap > 0 ? micros(run.params.cap) : Number.POSITIVE_INFINITY
      const target_ = Math.min(roundBid(was.bidMicros * (1 + percent / 100)), cap)
      const t = yield* target(shop, run, "keyword")
      const now = yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError)
      if (now.bidMicros !== target_) yield* Effect.mapError(t.client.updateObject(t.account, t.ref, { bidMicros: target_ }), asActionError)
      return { after: { bidMicros: target_ }, summary: `changed keyword ${was.name}'s bid from ${amount(was.bidMicros, was.currency)} to ${amount(target_, was.currency)}` }
    }),
  undoHandler: (shop, run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as Snapshot
      const did = after as { readonly bidMicros: number }
      const t = yield* target(shop, run, "keyword")
      const now = yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError)
      if (now.bidMicros !== did.bidMicros && !force) {
        return yield* Effect.fail(new ChangedSince({ message: `the bid is ${amount(now.bidMicros, now.currency)} now, not the ${amount(did.bidMicros, now.currency)} the action set` }))
      }
      if (was.bidMicros !== null) yield* Effect.mapError(t.client.updateObject(t.account, t.ref, { bidMicros: was.bidMicros }), asActionError)
      return { summary: `restored keyword ${was.name}'s bid to ${amount(was.bidMicros, was.currency)}` }
    })
}

export const capCampaignBudget: ActionImplementation<Needs> = {
  snapshot: (shop, run) =>
    Effect.gen(function*() {
      const t = yield* target(shop, run, "campaign")
      return snapshotOf(yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError))
    }),
  handler: (shop, run, before) =>
    Effect.gen(function*() {
      const was = before as Snapshot
      const cap = micros(typeof run.params.cap === "number" ? run.params.cap : 0)
      if (was.dailyBudgetMicros === null || was.dailyBudgetMicros <= cap) {
        return { after: { dailyBudgetMicros: was.dailyBudgetMicros, capped: false }, summary: `campaign ${was.name}'s budget (${amount(was.dailyBudgetMicros, was.currency)}) is within the cap: left alone` }
      }
      const t = yield* target(shop, run, "campaign")
      const now = yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError)
      if (now.dailyBudgetMicros !== cap) yield* Effect.mapError(t.client.updateObject(t.account, t.ref, { dailyBudgetMicros: cap }), asActionError)
      return { after: { dailyBudgetMicros: cap, capped: true }, summary: `capped campaign ${was.name}'s daily budget from ${amount(was.dailyBudgetMicros, was.currency)} to ${amount(cap, was.currency)}` }
    }),
  undoHandler: (shop, run, before, after, force) =>
    Effect.gen(function*() {
      const was = before as Snapshot
      const did = after as { readonly dailyBudgetMicros: number | null; readonly capped: boolean }
      if (!did.capped) return { summary: "nothing to restore (the budget was not changed)" }
      const t = yield* target(shop, run, "campaign")
      const now = yield* Effect.mapError(t.client.getObject(t.account, t.ref), asActionError)
      if (now.dailyBudgetMicros !== did.dailyBudgetMicros && !force) {
        return yield* Effect.fail(new ChangedSince({ message: `the daily budget is ${amount(now.dailyBudgetMicros, now.currency)} now, not the ${amount(did.dailyBudgetMicros, now.currency)} the action set` }))
      }
      if (was.dailyBudgetMicros !== null) yield* Effect.mapError(t.client.updateObject(t.account, t.ref, { dailyBudgetMicros: was.dailyBudgetMicros }), asActionError)
      return { summary: `restored campaign ${was.name}'s daily budget to ${amount(was.dailyBudgetMicros, was.currency)}` }
    })
}
