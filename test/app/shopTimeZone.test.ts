/**
 * The shop's IANA time zone (issue 11 §2: quiet hours are in the shop's zone), end to end on
 * PostgreSQL 15: a signed `shop/update` webhook → the shop log → the shop actor →
 * `shop.timezone_changed` on `shop-<shop>` → what the decision plane reads
 * (`shopAutomationContext`). UTC until Shopify has said; a repeat records nothing; a zone that
 * is not one is ignored with a warning (and the delivery kept raw, with the reason).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { shopAutomationContext } from "../../src/automation/ShopDefaults.ts"
import { type DataPlane, startDataPlane } from "../support/dataPlaneHarness.ts"

describe("the shop's time zone", () => {
  let dp: DataPlane
  beforeAll(async () => {
    dp = await startDataPlane({ log: "embedded" })
  }, 60_000)
  afterAll(async () => {
    await dp?.close()
  })

  /** Until the shop's log has `n` events (the deliveries of one shop are handled in order). */
  const handled = (shop: string, n: number) =>
    dp.until(async () => {
      const rows = await dp.events(shop)
      return rows.length >= n ? rows : undefined
    }, `${n} events of ${shop}`)

  it("a shop/update with iana_timezone Europe/Berlin changes the zone the decision plane reads (UTC before)", async () => {
    const shop = "tz-berlin.myshopify.com"
    expect(await dp.run(shopAutomationContext(shop))).toEqual({ plan: "free", timeZone: "UTC" })
    expect((await dp.webhook("shop/update", shop, { id: 1, name: "Berlin Tea", iana_timezone: "Europe/Berlin" })).status).toBe(200)
    const [changed] = await handled(shop, 1)
    expect(changed).toMatchObject({
      type: "shop.timezone_changed",
      stream_id: `shop-${shop}`,
      data: { timeZone: "Europe/Berlin", previousTimeZone: null, source: "shop_update" }
    })
    expect(await dp.run(shopAutomationContext(shop))).toEqual({ plan: "free", timeZone: "Europe/Berlin" })
  })

  it("a repeated shop/update (the same zone, another field changed) appends nothing to the shop's lifecycle", async () => {
    const shop = "tz-repeat.myshopify.com"
    await dp.webhook("shop/update", shop, { id: 2, name: "Repeat", iana_timezone: "America/New_York" })
    await dp.webhook("shop/update", shop, { id: 2, name: "Repeat, renamed", iana_timezone: "America/New_York" })
    await dp.webhook("shop/update", shop, { id: 2, name: "Repeat, moved", iana_timezone: "Asia/Tokyo" })
    const events = await handled(shop, 3)
    // the repeat is kept raw like any delivery nobody models, never as a change
    expect(events.map((e) => [e.type, e.data["timeZone"] ?? e.data["topic"]])).toEqual([
      ["shop.timezone_changed", "America/New_York"],
      ["shopify.webhook_received", "shop/update"],
      ["shop.timezone_changed", "Asia/Tokyo"]
    ])
    expect(events[2]!.data["previousTimeZone"]).toBe("America/New_York")
    expect((await dp.run(shopAutomationContext(shop))).timeZone).toBe("Asia/Tokyo")
  })

  it("an invalid zone is ignored with a warning: the known zone stays, the delivery is kept raw with the reason", async () => {
    const shop = "tz-invalid.myshopify.com"
    const logged = vi.spyOn(console, "log")
    try {
      await dp.webhook("shop/update", shop, { id: 3, iana_timezone: "Europe/Paris" })
      await dp.webhook("shop/update", shop, { id: 3, iana_timezone: "Mars/Olympus" })
      await dp.webhook("shop/update", shop, { id: 3, iana_timezone: "+01:00" })
      const events = await handled(shop, 3)
      expect(events.map((e) => e.type)).toEqual(["shop.timezone_changed", "shopify.webhook_received", "shopify.webhook_received"])
      expect(events.slice(1).map((e) => e.data["decode_error"])).toEqual([
        "iana_timezone \"Mars/Olympus\" is not an IANA time zone",
        "iana_timezone \"+01:00\" is not an IANA time zone"
      ])
      expect((await dp.run(shopAutomationContext(shop))).timeZone).toBe("Europe/Paris")
      const warnings = logged.mock.calls.map((args) => args.map(String).join(" ")).filter((line) => line.includes("WARN"))
      expect(warnings.some((line) => line.includes("shop/update ignored for the time zone: iana_timezone \"Mars/Olympus\""))).toBe(true)
    } finally {
      logged.mockRestore()
    }
  })
})
