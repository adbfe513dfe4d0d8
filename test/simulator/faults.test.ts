import { createAdminApiClient } from "@shopify/admin-api-client"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { webhookSignature, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { APP_SECRET, POLL, RUN_MUTATION, RUN_QUERY, SHOP, TOKEN, clientFor, rawGraphQL, stageJsonl, startSim, startWebhookReceiver, type WebhookReceiver } from "./support.ts"

const Q = `{ products { edges { node { id } } } }`

describe("fault injection", () => {
  let sim: RunningShopifySimulator
  let hooks: WebhookReceiver
  beforeAll(async () => {
    hooks = await startWebhookReceiver()
    sim = await startSim({ webhookUrl: hooks.url, webhookRetryDelaysMs: [0, 0, 0], shops: [{ domain: SHOP, accessToken: TOKEN, products: 20 }] })
  })
  afterEach(async () => {
    sim.shop().faults.clear()
    await sim.shop().bulk.idle()
    await sim.webhooksIdle()
  })
  afterAll(async () => {
    await sim.close()
    await hooks.close()
  })

  it("throttles the next N requests (optionally only matching ones) whatever the bucket holds", async () => {
    sim.shop().faults.throttleNext(1, { rootField: "bulkOperationRunQuery" }).throttleNext(2)
    const codes: Array<string | undefined> = []
    for (let i = 0; i < 3; i++) codes.push((await rawGraphQL(sim, `{ shop { name } }`)).body.errors?.[0]?.extensions?.code)
    expect(codes).toEqual(["THROTTLED", "THROTTLED", undefined])
    const run = await rawGraphQL(sim, `mutation { bulkOperationRunQuery(query: "${Q}", groupObjects: false) { userErrors { message } } }`)
    expect(run.body.errors[0].extensions.code).toBe("THROTTLED")
    expect(run.body.data).toBeUndefined()
    expect(sim.shop().bulkOperations()).toHaveLength(0)
  })

  it("answers HTTP 5xx: admin-api-client retries 503 but not 500", async () => {
    sim.shop().faults.httpErrorNext(503, 1, { retryAfter: "1" })
    const retried = await createAdminApiClient({ ...sim.adminClientOptions(), retries: 1 }).request(`{ shop { name } }`)
    expect(retried.data).toEqual({ shop: { name: "acme" } })
    sim.shop().faults.httpErrorNext(500)
    const failed = await clientFor(sim).request(`{ shop { name } }`)
    expect(failed.errors?.networkStatusCode).toBe(500)
    expect(sim.shop().requests.slice(-3).map((r) => r.httpStatus)).toEqual([503, 200, 500])
  })

  it("hangs requests until the client aborts, or until released (504)", async () => {
    sim.shop().faults.hangNext(2)
    const controller = new AbortController()
    const firstHang = sim.shop().faults.nextHang()
    const aborted = clientFor(sim).request(`{ shop { name } }`, { signal: controller.signal })
    await firstHang
    controller.abort()
    expect((await aborted).errors?.message).toBe("GraphQL Client: This operation was aborted")
    const secondHang = sim.shop().faults.nextHang()
    const released = rawGraphQL(sim, `{ shop { name } }`)
    await secondHang
    sim.shop().faults.releaseHangs()
    expect((await released).status).toBe(504)
    expect((await rawGraphQL(sim, `{ shop { name } }`)).status).toBe(200)
  })

  it("fails the next bulk operation with an errorCode and a partialDataUrl", async () => {
    const client = clientFor(sim)
    sim.shop().faults.failNextBulkOperation({ errorCode: "TIMEOUT", afterObjects: 5 })
    const run = (await client.request(RUN_QUERY, { variables: { q: Q } })).data as any
    const id = run.bulkOperationRunQuery.bulkOperation.id
    await sim.shop().bulk.whenFinished(id)
    const op = ((await client.request(POLL, { variables: { id } })).data as any).bulkOperation
    expect(op).toMatchObject({ status: "FAILED", errorCode: "TIMEOUT", url: null, objectCount: "5" })
    const partial = (await (await fetch(op.partialDataUrl)).text()).trimEnd().split("\n")
    expect(partial).toHaveLength(5)
    await sim.webhooksIdle()
    const hook = JSON.parse(hooks.received.at(-1)!.body)
    expect(hook).toMatchObject({ admin_graphql_api_id: id, status: "failed", error_code: "timeout", type: "query" })
    // Without partial data there is no partialDataUrl.
    sim.shop().faults.failNextBulkOperation({ type: "QUERY" })
    const next = (await client.request(RUN_QUERY, { variables: { q: Q } })).data as any
    const failed = await sim.shop().bulk.whenFinished(next.bulkOperationRunQuery.bulkOperation.id)
    expect(failed).toMatchObject({ status: "FAILED", errorCode: "INTERNAL_SERVER_ERROR", partialPath: null })
  })

  it("injects per-product user errors into bulk mutation results", async () => {
    const client = clientFor(sim)
    const shop = sim.shop()
    shop.faults.failMutationsFor([shop.productGid(2)], { code: "INTERNAL_ERROR", message: "boom" })
    const mutation = `mutation m($input: MetafieldsSetInput!) { metafieldsSet(metafields: [$input]) { metafields { id } userErrors { field message code } } }`
    const path = await stageJsonl(
      client,
      [1, 2, 3].map((n) => JSON.stringify({ input: { ownerId: shop.productGid(n), namespace: "custom", key: "fx", type: "single_line_text_field", value: "v" } }))
    )
    const run = (await client.request(RUN_MUTATION, { variables: { mutation, path } })).data as any
    const op = await shop.bulk.whenFinished(run.bulkOperationRunMutation.bulkOperation.id)
    expect(op.status).toBe("COMPLETED")
    const lines = (await shop.bulkResultLines(op.id)) as Array<any>
    const second = lines.find((l) => l.__lineNumber === 1)
    expect(second.data.metafieldsSet).toEqual({ metafields: [], userErrors: [{ field: ["metafields", "0", "ownerId"], message: "boom", code: "INTERNAL_ERROR" }] })
    expect(shop.metafield(1, "custom", "fx")?.value).toBe("v")
    expect(shop.metafield(2, "custom", "fx")).toBeUndefined()
    expect(shop.metafield(3, "custom", "fx")?.value).toBe("v")
  })

  it("drops, retries and duplicates webhooks", async () => {
    const client = clientFor(sim)
    const runOnce = async () => {
      const run = (await client.request(RUN_QUERY, { variables: { q: Q } })).data as any
      const id = run.bulkOperationRunQuery.bulkOperation.id as string
      await sim.shop().bulk.whenFinished(id)
      await sim.webhooksIdle()
      return id
    }
    const before = hooks.received.length
    sim.shop().faults.dropWebhooks(1)
    const dropped = await runOnce()
    expect(hooks.received.length).toBe(before)
    expect(sim.webhookDeliveries().find((d) => d.body.includes(dropped))?.status).toBe("dropped")

    // The receiver fails twice; the simulator retries with the same webhook id and body.
    const flaky = await startWebhookReceiver([500, 503])
    try {
      sim.setWebhookUrl(flaky.url)
      const retried = await runOnce()
      expect(flaky.received.map((r) => r.status)).toEqual([500, 503, 200])
      expect(new Set(flaky.received.map((r) => r.headers["x-shopify-webhook-id"])).size).toBe(1)
      expect(new Set(flaky.received.map((r) => r.body)).size).toBe(1)
      const delivery = sim.webhookDeliveries().find((d) => d.body.includes(retried))!
      expect(delivery).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200 })

      sim.shop().faults.duplicateWebhooks(1)
      const duplicated = await runOnce()
      const copies = flaky.received.filter((r) => r.body.includes(duplicated))
      expect(copies).toHaveLength(2)
      expect(copies[0]!.headers["x-shopify-event-id"]).toBe(copies[1]!.headers["x-shopify-event-id"])
      expect(copies[0]!.headers["x-shopify-webhook-id"]).not.toBe(copies[1]!.headers["x-shopify-webhook-id"])
      expect(copies[0]!.headers["x-shopify-hmac-sha256"]).toBe(webhookSignature(APP_SECRET, copies[0]!.body))
    } finally {
      sim.setWebhookUrl(hooks.url)
      await flaky.close()
    }
  })

  it("revokes the token on uninstall (401 + app/uninstalled) and issues a new one through OAuth", async () => {
    const shop = sim.shop()
    shop.uninstall()
    expect((await rawGraphQL(sim, `{ shop { name } }`)).status).toBe(401)
    await sim.webhooksIdle()
    expect(hooks.received.at(-1)!.headers["x-shopify-topic"]).toBe("app/uninstalled")
    const code = shop.issueAuthorizationCode()
    const exchange = await fetch(`${sim.url}/admin/oauth/access_token`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Forwarded-Host": SHOP },
      body: JSON.stringify({ client_id: "key", client_secret: APP_SECRET, code })
    })
    expect(exchange.status).toBe(200)
    const { access_token } = (await exchange.json()) as { access_token: string }
    expect((await rawGraphQL(sim, `{ shop { name } }`, { token: access_token })).status).toBe(200)
    expect((await rawGraphQL(sim, `{ shop { name } }`, { token: TOKEN })).status).toBe(401)
    const reused = await fetch(`${sim.url}/admin/oauth/access_token`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Forwarded-Host": SHOP },
      body: JSON.stringify({ client_id: "key", client_secret: APP_SECRET, code })
    })
    expect(reused.status).toBe(400)
    shop.install(TOKEN)
  })

  it("is controllable over HTTP under /__sim/ for other processes", async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sim.url}/__sim${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
    expect((await post(`/shops/${SHOP}/faults`, { kind: "throttle", count: 1 })).status).toBe(200)
    expect((await rawGraphQL(sim, `{ shop { name } }`)).body.errors[0].extensions.code).toBe("THROTTLED")
    sim.shop().setMetafield(4, { namespace: "custom", key: "probe", type: "single_line_text_field", value: "seen" })
    const metafields = (await (await fetch(`${sim.url}/__sim/shops/${SHOP}/products/4/metafields`)).json()) as Array<any>
    expect(metafields).toContainEqual(expect.objectContaining({ namespace: "custom", key: "probe", value: "seen" }))
    const ops = (await (await fetch(`${sim.url}/__sim/shops/${SHOP}/bulk-operations`)).json()) as Array<any>
    expect(ops.length).toBe(sim.shop().bulkOperations().length)
    expect(ops.some((o) => o.type === "MUTATION" && typeof o.stagedUploadPath === "string")).toBe(true)
    expect((await post(`/shops/${SHOP}/faults`, { kind: "nope" })).status).toBe(400)
  })
})
