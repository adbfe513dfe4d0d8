/**
 * The Shopify CLI configuration matches the code: `shopify.app.toml` subscribes exactly the
 * modelled webhook topics (plus the compliance topics) at API 2026-07 to the route the server
 * mounts, redirects OAuth to the mounted callback, and the Flow action extension declares
 * exactly the inputs `FlowActionInput` accepts, posted to the mounted Flow route.
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { Hono } from "hono"
import { parse } from "smol-toml"
import { describe, expect, it } from "vitest"
import { mountFlowActionRoute } from "../../adapters/http/FlowActionRoute.ts"
import { mountOAuthRoutes } from "../../adapters/http/OAuthRoutes.ts"
import type { RunEffect } from "../../adapters/http/RunEffect.ts"
import { mountShopifyWebhookRoute } from "../../adapters/http/ShopifyWebhookRoute.ts"
import { validateFlowActionInput } from "../../domain/jobs/index.ts"
import { COMPLIANCE_TOPICS, MODELLED_WEBHOOK_TOPICS, SUBSCRIBED_WEBHOOK_TOPICS } from "../../domain/shopify/webhookTopics.ts"
import { JobIngress } from "../../src/jobs/JobIngress.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"

interface Subscription {
  readonly topics?: ReadonlyArray<string>
  readonly compliance_topics?: ReadonlyArray<string>
  readonly uri: string
}
interface AppToml {
  readonly client_id: string
  readonly name: string
  readonly application_url: string
  readonly embedded: boolean
  readonly access_scopes: { readonly scopes: string }
  readonly auth: { readonly redirect_urls: ReadonlyArray<string> }
  readonly webhooks: { readonly api_version: string; readonly subscriptions: ReadonlyArray<Subscription> }
}
interface FlowField {
  readonly type: string
  readonly key: string
  readonly name: string
  readonly description?: string
  readonly required: boolean
}
interface ExtensionToml {
  readonly extensions: ReadonlyArray<{
    readonly name: string
    readonly type: string
    readonly handle: string
    readonly description: string
    readonly runtime_url: string
  }>
  readonly settings: { readonly fields: ReadonlyArray<FlowField> }
}

const root = new URL("../../", import.meta.url)
const appToml = parse(readFileSync(new URL("shopify.app.toml", root), "utf8")) as unknown as AppToml
const extensionToml = parse(
  readFileSync(new URL("extensions/flowmend-bulk-metafields/shopify.extension.toml", root), "utf8")
) as unknown as ExtensionToml
const action = extensionToml.extensions[0]!
const fields = extensionToml.settings.fields

/** Services the routes never reach here: every request is refused first. */
const notReached = Effect.die(new Error("not reached: the request is refused first"))
const refusedFirst: RunEffect<ShopLog | JobIngress> = (effect) =>
  Effect.runPromise(effect.pipe(
    Effect.provideService(ShopLog, ShopLog.of({
      partitions: 1,
      publish: () => notReached,
      consume: () => notReached,
      ping: notReached,
      pending: notReached,
      oldestUnacked: () => notReached,
      isQueued: () => notReached
    })),
    Effect.provideService(JobIngress, JobIngress.of({ request: () => notReached }))
  ))

/** The app with every route the TOMLs point at, as the server mounts them. */
const mountedApp = () => {
  const app = new Hono()
  const never = () => Promise.reject(new Error("not reached: the request is refused first"))
  mountFlowActionRoute(app, refusedFirst, { secrets: ["secret"] })
  mountShopifyWebhookRoute(app, refusedFirst, { secrets: ["secret"] })
  mountOAuthRoutes(app, {
    apiKey: "key",
    secrets: ["secret"],
    scopes: appToml.access_scopes.scopes,
    appUrl: appToml.application_url,
    adminOrigin: (shop) => `https://${shop}`,
    saveToken: never,
    publish: never
  })
  return app
}

/** Flow's envelope with `properties` as Flow sends them: every value a string. */
const flowBody = (properties: Record<string, string>) => ({
  shop_id: "1",
  shopify_domain: "example.myshopify.com",
  action_run_id: "run-1",
  handle: action.handle,
  properties
})

const sample: Record<string, string> = {
  query_string: "status:active tag:winter",
  namespace: "custom",
  key: "seasonal_badge",
  type: "single_line_text_field",
  value: "Winter Collection",
  dry_run: "true",
  max_items: "5000"
}

describe("shopify.app.toml", () => {
  it("is an embedded app at API 2026-07 with a client id, name and https URLs", () => {
    expect(appToml.client_id).toMatch(/^\S+$/)
    expect(appToml.name).toBe("Sumeru")
    expect(appToml.embedded).toBe(true)
    expect(appToml.webhooks.api_version).toBe("2026-07")
    expect(new URL(appToml.application_url).protocol).toBe("https:")
  })

  it("subscribes every modelled topic and the shop's own (plan, time zone) exactly once, and nothing else, to /webhooks/shopify", () => {
    const topics = appToml.webhooks.subscriptions.flatMap((s) => s.topics ?? [])
    expect(new Set(topics).size).toBe(topics.length)
    expect([...topics].sort()).toEqual([...SUBSCRIBED_WEBHOOK_TOPICS].sort())
    expect(SUBSCRIBED_WEBHOOK_TOPICS).toEqual(expect.arrayContaining([...MODELLED_WEBHOOK_TOPICS]))
    for (const s of appToml.webhooks.subscriptions) expect(s.uri).toBe("/webhooks/shopify")
  })

  it("subscribes the three compliance topics", () => {
    const compliance = appToml.webhooks.subscriptions.flatMap((s) => s.compliance_topics ?? [])
    expect([...compliance].sort()).toEqual([...COMPLIANCE_TOPICS].sort())
  })

  it("asks for the scopes Flowmend and the subscribed topics need", () => {
    const scopes = appToml.access_scopes.scopes.split(",")
    // products/* and the metafield jobs; orders/*, carts/*, checkouts/*; customers/*; inventory_levels/*
    expect(scopes).toEqual(expect.arrayContaining(["read_products", "write_products", "read_orders", "read_customers", "read_inventory"]))
    expect(scopes.every((s) => /^(read|write)_[a-z_]+$/.test(s))).toBe(true)
  })

  it("points webhooks and the OAuth redirect at routes the server mounts", async () => {
    const app = mountedApp()
    const base = appToml.application_url
    // Mounted routes refuse an unsigned request (401/400); an unknown path would be a 404.
    const webhook = await app.request(new URL(appToml.webhooks.subscriptions[0]!.uri, base).toString(), {
      method: "POST",
      headers: { "content-type": "application/json", "x-shopify-topic": "orders/create", "x-shopify-shop-domain": "a.myshopify.com" },
      body: "{}"
    })
    expect(webhook.status).toBe(401)
    expect(appToml.auth.redirect_urls).toHaveLength(1)
    const redirect = new URL(appToml.auth.redirect_urls[0]!)
    expect(redirect.origin).toBe(new URL(base).origin)
    const callback = await app.request(redirect.toString())
    expect(callback.status).toBe(400)
    expect(((await callback.json()) as { error: { code: string } }).error.code).toBe("invalid_request")
  })
})

describe("the Flow action extension", () => {
  it("is a flow_action with a valid handle and a runtime URL served by the Flow route", async () => {
    expect(extensionToml.extensions).toHaveLength(1)
    expect(action.type).toBe("flow_action")
    expect(action.handle).toMatch(/^[a-z0-9-]{1,30}$/)
    expect(action.name.length).toBeGreaterThan(0)
    const runtime = new URL(action.runtime_url)
    expect(runtime.protocol).toBe("https:")
    expect(runtime.pathname).toBe("/webhooks/flow-action")
    const res = await mountedApp().request(action.runtime_url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-shopify-hmac-sha256": "AAAA" },
      body: "{}"
    })
    expect(res.status).toBe(401)
  })

  it("declares exactly the properties FlowActionInput reads, and Flow's string values validate", () => {
    expect(fields.map((f) => f.key).sort()).toEqual(Object.keys(sample).sort())
    expect(new Set(fields.map((f) => f.key)).size).toBe(fields.length)
    const valid = validateFlowActionInput(flowBody(sample))
    expect(valid._tag).toBe("Success")
    // Every declared field is read: an invalid value in it is reported under its key.
    for (const f of fields) {
      const bad = validateFlowActionInput(flowBody({ ...sample, [f.key]: "@@ not valid @@".repeat(100) }))
      expect(bad._tag, f.key).toBe("Failure")
      if (bad._tag === "Failure") expect(bad.failure.map((e) => e.field), f.key).toContain(`properties.${f.key}`)
    }
  })

  it("marks as required exactly the properties the validator requires", () => {
    const missing = validateFlowActionInput(flowBody({}))
    expect(missing._tag).toBe("Failure")
    const required = missing._tag === "Failure"
      ? missing.failure.filter((e) => e.code === "required").map((e) => e.field.replace(/^properties\./, "")).sort()
      : []
    expect(fields.filter((f) => f.required).map((f) => f.key).sort()).toEqual(required)
  })

  it("uses Flow field types that carry each property's kind of value", () => {
    const typeOf = Object.fromEntries(fields.map((f) => [f.key, f.type]))
    expect(typeOf["dry_run"]).toBe("boolean")
    expect(typeOf["max_items"]).toBe("number_integer")
    for (const key of ["query_string", "namespace", "key", "type"]) expect(typeOf[key]).toBe("single_line_text_field")
    expect(["single_line_text_field", "multi_line_text_field"]).toContain(typeOf["value"])
    for (const f of fields) expect(f.name.length, f.key).toBeGreaterThan(0)
  })
})
