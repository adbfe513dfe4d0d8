/**
 * `shopify.app_installed` → `shop.installed` on `shop-<shop>`: only scopes, method and
 * installedAt are copied (whatever else a payload carries, a token included, never reaches the
 * event), and a payload without them is dead-lettered at once (a permanent failure).
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { type HandlerContext, makeDispatcher } from "../../src/actors/ShopHandlers.ts"
import { installHandlers } from "../../src/app/InstallHandlers.ts"

// through the dispatcher: the message is decoded (once) as the runtime hands it over
const handler = makeDispatcher(installHandlers).handle

const ctx = (payload: unknown): HandlerContext => ({
  shop: "a.myshopify.com",
  message: { shop: "a.myshopify.com", messageId: "m1", type: "shopify.app_installed", payload },
  sequence: 1,
  attempt: 1,
  memory: { get: () => undefined, set: () => undefined }
})

describe("install handlers", () => {
  it("records shop.installed with scopes, method and installedAt only", async () => {
    const decision = await Effect.runPromise(handler(ctx({
      scopes: "read_products,write_products",
      method: "token_exchange",
      installedAt: "2026-07-15T12:00:00.000Z",
      access_token: "shpat_must_not_be_copied"
    })))
    expect(decision.appends).toEqual([{
      streamId: "shop-a.myshopify.com",
      expected: "any",
      events: [{
        type: "shop.installed",
        data: { scopes: "read_products,write_products", method: "token_exchange", installedAt: "2026-07-15T12:00:00.000Z" },
        occurredAt: new Date("2026-07-15T12:00:00.000Z")
      }]
    }])
    expect(JSON.stringify(decision)).not.toContain("shpat_")
  })

  it("dead-letters a payload without scopes, a known method or installedAt", async () => {
    for (const payload of [{}, { scopes: "x", method: "magic", installedAt: "t" }, { scopes: "x", method: "oauth" }, { scopes: "x", method: "oauth", installedAt: "yesterday" }, null]) {
      const exit = await Effect.runPromiseExit(handler(ctx(payload)))
      expect(Exit.isFailure(exit), JSON.stringify(payload)).toBe(true)
      if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("PermanentFailure")
    }
  })
})
