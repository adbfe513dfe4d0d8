/**
 * The shop lifecycle decider (`domain/shop/ShopLifecycle.ts`), given events / when command /
 * then events — no database. The rule under test: an uninstall that fired before the latest
 * install (Shopify delivers late and out of order) is recorded as stale and keeps the token.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  decideInstall,
  decideLifecycle,
  evolveLifecycle,
  initialLifecycle,
  isIanaTimeZone,
  planOfSubscription,
  type ShopLifecycle,
  type ShopLifecycleCommand,
  type ShopLifecycleEvent,
  timeZoneOfShopUpdate
} from "../../domain/shop/ShopLifecycle.ts"

const source = { topic: "app/uninstalled", event_id: "e-1", api_version: "2026-07", triggered_at: null }
const installed = (at: string): ShopLifecycleEvent => ({
  type: "shop.installed",
  data: { scopes: "read_products", method: "oauth", installedAt: at },
  occurredAt: new Date(at)
})
const given = (...events: ReadonlyArray<ShopLifecycleEvent>): ShopLifecycle => events.reduce(evolveLifecycle, initialLifecycle)
const uninstall = (at: string, tokenInstalledAt: string | null): ShopLifecycleCommand => ({
  type: "RecordUninstall",
  source: { ...source, triggered_at: at },
  occurredAt: new Date(at),
  tokenInstalledAt: tokenInstalledAt === null ? null : new Date(tokenInstalledAt)
})

describe("shop lifecycle", () => {
  it("given nothing, when an install is recorded, then shop.installed with scopes, method and installedAt only, dated by the install", () => {
    const decided = decideInstall({ scopes: "read_products", method: "token_exchange", installedAt: "2026-07-15T12:00:00.000Z" })
    expect(Result.isSuccess(decided) && decided.success).toEqual({
      type: "shop.installed",
      data: { scopes: "read_products", method: "token_exchange", installedAt: "2026-07-15T12:00:00.000Z" },
      occurredAt: new Date("2026-07-15T12:00:00.000Z")
    })
    expect(given(installed("2026-07-15T12:00:00.000Z"))).toMatchObject({ status: "installed", installedAt: "2026-07-15T12:00:00.000Z" })
  })

  it("when an install's time is not a time, then it is refused", () => {
    const decided = decideInstall({ scopes: "x", method: "oauth", installedAt: "yesterday" })
    expect(Result.isFailure(decided) && decided.failure.reason).toMatch(/invalid installedAt/)
  })

  it("given an install, when an uninstall fired after it arrives, then the token is discarded and the shop is uninstalled", () => {
    const state = given(installed("2026-07-01T00:00:00.000Z"))
    const decision = decideLifecycle(uninstall("2026-07-02T00:00:00.000Z", "2026-07-01T00:00:00.000Z"), state)
    expect(decision.discardToken).toBe(true)
    expect(decision.events).toEqual([{
      type: "shop.uninstalled",
      data: { ...source, triggered_at: "2026-07-02T00:00:00.000Z", token_discarded: true, stale: false },
      occurredAt: new Date("2026-07-02T00:00:00.000Z")
    }])
    expect(decision.events.reduce(evolveLifecycle, state).status).toBe("uninstalled")
  })

  it("given a re-install, when an uninstall that fired before it arrives late, then it is recorded as stale and the token kept", () => {
    const state = given(installed("2026-07-01T00:00:00.000Z"), installed("2026-07-03T00:00:00.000Z"))
    const decision = decideLifecycle(uninstall("2026-07-02T00:00:00.000Z", "2026-07-03T00:00:00.000Z"), state)
    expect(decision.discardToken).toBe(false)
    expect(decision.events[0]!.data).toMatchObject({ token_discarded: false, stale: true })
    expect(decision.events.reduce(evolveLifecycle, state).status).toBe("installed")
  })

  it("given a re-install the stream does not show yet (its token is stored, its message still queued), a late uninstall is stale", () => {
    const state = given(installed("2026-07-01T00:00:00.000Z"))
    const decision = decideLifecycle(uninstall("2026-07-02T00:00:00.000Z", "2026-07-03T00:00:00.000Z"), state)
    expect(decision.discardToken).toBe(false)
  })

  it("given nothing, when an uninstall arrives (the install predates the app's history), then the token is discarded", () => {
    expect(decideLifecycle(uninstall("2026-07-02T00:00:00.000Z", null), initialLifecycle).discardToken).toBe(true)
  })

  it("given an uninstalled shop, when shop/redact arrives, then shop.redacted and the shop is redacted for good", () => {
    const state = given(installed("2026-07-01T00:00:00.000Z"))
    const gone = decideLifecycle(uninstall("2026-07-02T00:00:00.000Z", null), state).events.reduce(evolveLifecycle, state)
    const decision = decideLifecycle({ type: "RecordRedact", source: { ...source, topic: "shop/redact" }, occurredAt: new Date("2026-07-04T00:00:00.000Z") }, gone)
    expect(decision.events.map((e) => e.type)).toEqual(["shop.redacted"])
    expect(decision.discardToken).toBe(false)
    const redacted = decision.events.reduce(evolveLifecycle, gone)
    expect(redacted.status).toBe("redacted")
    // a late uninstall after the redaction leaves it redacted
    const late = decideLifecycle(uninstall("2026-07-05T00:00:00.000Z", null), redacted).events.reduce(evolveLifecycle, redacted)
    expect(late.status).toBe("redacted")
  })

  it("plans: an ACTIVE subscription is the plan its name says, a cancelled one is free, a pending one changes nothing; the same plan is no event", () => {
    expect(planOfSubscription({ name: "Sumeru Pro", status: "ACTIVE" })).toBe("pro")
    expect(planOfSubscription({ name: "Sumeru Enterprise (annual)", status: "active" })).toBe("enterprise")
    expect(planOfSubscription({ name: "Sumeru Basic", status: "ACTIVE" })).toBe("free")
    expect(planOfSubscription({ name: "Sumeru Pro", status: "CANCELLED" })).toBe("free")
    expect(planOfSubscription({ name: "Sumeru Pro", status: "PENDING" })).toBeUndefined()
    const set = (plan: "free" | "pro", state = initialLifecycle) =>
      decideLifecycle({ type: "SetPlan", plan, source: "app_subscription", subscription: { name: "Sumeru Pro", status: "ACTIVE" }, occurredAt: new Date("2026-07-01T00:00:00Z") }, state)
    const upgrade = set("pro")
    expect(upgrade.events.map((e) => [e.type, e.data])).toEqual([["shop.plan_changed", { plan: "pro", previousPlan: "free", source: "app_subscription", subscription: { name: "Sumeru Pro", status: "ACTIVE" } }]])
    const pro = upgrade.events.reduce(evolveLifecycle, initialLifecycle)
    expect(pro.plan).toBe("pro")
    expect(set("pro", pro).events).toEqual([])
  })

  it("time zones: a shop/update's iana_timezone is recorded when it changes; the same zone, a stale delivery or a zone that is not one is no event", () => {
    const setZone = (timeZone: string, at: string, state = initialLifecycle) =>
      decideLifecycle({ type: "SetTimeZone", timeZone, source: "shop_update", occurredAt: new Date(at) }, state)
    const first = setZone("Europe/Berlin", "2026-07-01T00:00:00.000Z")
    expect(first.events.map((e) => [e.type, e.data])).toEqual([
      ["shop.timezone_changed", { timeZone: "Europe/Berlin", previousTimeZone: null, source: "shop_update" }]
    ])
    const berlin = first.events.reduce(evolveLifecycle, initialLifecycle)
    expect(berlin.timeZone).toBe("Europe/Berlin")
    // the same zone again
    expect(setZone("Europe/Berlin", "2026-07-02T00:00:00.000Z", berlin).events).toEqual([])
    // a delivery that fired before the recorded change arrives late: it must not turn the zone back
    expect(setZone("America/New_York", "2026-06-30T00:00:00.000Z", berlin).events).toEqual([])
    // not a zone
    expect(setZone("Mars/Olympus", "2026-07-02T00:00:00.000Z", berlin).events).toEqual([])
    const moved = setZone("America/New_York", "2026-07-03T00:00:00.000Z", berlin)
    expect(moved.events.map((e) => e.data)).toEqual([{ timeZone: "America/New_York", previousTimeZone: "Europe/Berlin", source: "shop_update" }])
    expect(moved.events.reduce(evolveLifecycle, berlin)).toMatchObject({ timeZone: "America/New_York", timeZoneSince: "2026-07-03T00:00:00.000Z" })
  })

  it("an IANA time zone is what Intl computes in, never a fixed offset; a shop/update without iana_timezone says nothing", () => {
    for (const zone of ["Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/UTC", "UTC", "Asia/Kolkata"]) expect(isIanaTimeZone(zone), zone).toBe(true)
    for (const zone of ["Mars/Olympus", "", " Europe/Berlin", "+01:00", "-05:00", "GMT+1", "2026"]) expect(isIanaTimeZone(zone), zone).toBe(false)
    expect(timeZoneOfShopUpdate({ id: 1, iana_timezone: "Europe/Berlin" })).toEqual({ _tag: "Valid", timeZone: "Europe/Berlin" })
    expect(timeZoneOfShopUpdate({ id: 1 })).toEqual({ _tag: "Missing" })
    expect(timeZoneOfShopUpdate({ iana_timezone: 7 })).toEqual({ _tag: "Invalid", reason: "iana_timezone 7 is not an IANA time zone" })
    expect(timeZoneOfShopUpdate(null)).toEqual({ _tag: "Missing" })
  })
})
