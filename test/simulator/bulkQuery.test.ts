import { createHmac, timingSafeEqual } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ProductInit, RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { APP_SECRET, POLL, RUN_QUERY, SHOP, TOKEN, clientFor, startSim, startWebhookReceiver, type WebhookReceiver } from "./support.ts"

const PRODUCTS: ReadonlyArray<ProductInit> = [
  { title: "Red shirt", tags: ["winter"], metafields: [{ namespace: "custom", key: "badge", type: "single_line_text_field", value: "Hot" }, { namespace: "custom", key: "n", type: "number_integer", value: "3" }] },
  { title: "Blue shirt", status: "DRAFT", tags: ["winter"] },
  { title: "Green shirt", tags: ["winter"], metafields: [{ namespace: "custom", key: "badge", type: "single_line_text_field", value: "New" }] },
  { title: "Hat", tags: ["summer"] }
]

const NESTED = `{
  products(query: "tag:winter") {
    edges { node {
      id
      title
      __typename
      badge: metafield(namespace: "custom", key: "badge") { value }
      metafields { edges { node { id namespace key value } } }
    } }
  }
}`

describe("bulk query operations", () => {
  let sim: RunningShopifySimulator
  let hooks: WebhookReceiver
  beforeAll(async () => {
    hooks = await startWebhookReceiver()
    sim = await startSim({ shops: [{ domain: SHOP, accessToken: TOKEN, products: PRODUCTS }], webhookUrl: hooks.url, webhookRetryDelaysMs: [0] })
  })
  afterAll(async () => {
    await sim.close()
    await hooks.close()
  })

  it("runs a query with a nested connection into JSONL with __parentId, and signs the finish webhook", async () => {
    const client = clientFor(sim)
    const run = await client.request(RUN_QUERY, { variables: { q: NESTED } })
    expect(run.errors).toBeUndefined()
    const created = (run.data as any).bulkOperationRunQuery
    expect(created.userErrors).toEqual([])
    expect(created.bulkOperation.status).toBe("CREATED")
    const id: string = created.bulkOperation.id
    expect(id).toMatch(/^gid:\/\/shopify\/BulkOperation\/\d+$/)

    await sim.shop().bulk.whenFinished(id)
    const polled = (await client.request(POLL, { variables: { id } })).data as any
    const op = polled.bulkOperation
    expect(op).toMatchObject({ status: "COMPLETED", errorCode: null, type: "QUERY", objectCount: "6", rootObjectCount: "3", query: NESTED, partialDataUrl: null })
    expect(typeof op.fileSize).toBe("string")
    expect(op.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)

    const download = await fetch(op.url)
    expect(download.status).toBe(200)
    const text = await download.text()
    expect(String(Buffer.byteLength(text))).toBe(op.fileSize)
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l))
    expect(lines).toEqual([
      { id: "gid://shopify/Product/1", title: "Red shirt", __typename: "Product", badge: { value: "Hot" } },
      { id: "gid://shopify/Metafield/16", namespace: "custom", key: "badge", value: "Hot", __parentId: "gid://shopify/Product/1" },
      { id: "gid://shopify/Metafield/17", namespace: "custom", key: "n", value: "3", __parentId: "gid://shopify/Product/1" },
      { id: "gid://shopify/Product/2", title: "Blue shirt", __typename: "Product", badge: null },
      { id: "gid://shopify/Product/3", title: "Green shirt", __typename: "Product", badge: { value: "New" } },
      { id: "gid://shopify/Metafield/48", namespace: "custom", key: "badge", value: "New", __parentId: "gid://shopify/Product/3" }
    ])

    await hooks.waitFor(1)
    const hook = hooks.received[0]!
    expect(hook.headers["x-shopify-topic"]).toBe("bulk_operations/finish")
    expect(hook.headers["x-shopify-shop-domain"]).toBe(SHOP)
    expect(hook.headers["x-shopify-api-version"]).toBe("2026-07")
    expect(hook.headers["x-shopify-webhook-id"]).toBeTruthy()
    expect(hook.headers["x-shopify-event-id"]).toBeTruthy()
    expect(hook.headers["x-shopify-triggered-at"]).toMatch(/\.\d{9}Z$/)
    const expected = createHmac("sha256", APP_SECRET).update(hook.body).digest()
    expect(timingSafeEqual(Buffer.from(String(hook.headers["x-shopify-hmac-sha256"]), "base64"), expected)).toBe(true)
    expect(JSON.parse(hook.body)).toEqual({
      admin_graphql_api_id: id,
      completed_at: op.completedAt,
      created_at: op.createdAt,
      error_code: null,
      status: "completed",
      type: "query"
    })
  })

  it("returns url: null when the query produced no results", async () => {
    const client = clientFor(sim)
    const run = (await client.request(RUN_QUERY, { variables: { q: `{ products(query: "tag:nothing") { edges { node { id } } } }` } })).data as any
    const id = run.bulkOperationRunQuery.bulkOperation.id
    await sim.shop().bulk.whenFinished(id)
    const op = ((await client.request(POLL, { variables: { id } })).data as any).bulkOperation
    expect(op).toMatchObject({ status: "COMPLETED", objectCount: "0", url: null, fileSize: null })
  })

  it("rejects queries Shopify refuses, with userErrors code INVALID", async () => {
    const client = clientFor(sim)
    const invalid = async (q: string) => {
      const r = (await client.request(RUN_QUERY, { variables: { q } })).data as any
      expect(r.bulkOperationRunQuery.bulkOperation).toBeNull()
      expect(r.bulkOperationRunQuery.userErrors).toHaveLength(1)
      expect(r.bulkOperationRunQuery.userErrors[0]).toMatchObject({ field: ["query"], code: "INVALID" })
      return r.bulkOperationRunQuery.userErrors[0].message as string
    }
    expect(await invalid(`{ shop { name } }`)).toBe("Bulk queries must contain at least one connection.")
    expect(await invalid(`{ node(id: "gid://shopify/Product/1") { id } }`)).toContain("top level `node`")
    expect(await invalid(`{ products { edges { node { nope } } } }`)).toBe("Invalid bulk query: Field 'nope' doesn't exist on type 'Product'")
    const six = Array.from({ length: 6 }, (_, i) => `c${i}: metafields { edges { node { id } } }`).join(" ")
    expect(await invalid(`{ products { edges { node { id ${six} } } } }`)).toContain("more than 5 connections")
    expect(await invalid(`{ products { edges { node { id collections { edges { node { products { edges { node { id } } } } } } } } } }`)).toContain(
      "nesting depth greater than 2"
    )
    expect(sim.shop().bulkOperations().every((o) => !o.query.includes("nope"))).toBe(true)
  })

  it("lists operations with bulkOperations(query:) filters and currentBulkOperation, and resolves node(id:)", async () => {
    const client = clientFor(sim)
    const all = sim.shop().bulkOperations()
    const list = (await client.request(`{
      done: bulkOperations(first: 10, query: "status:completed operation_type:query") { nodes { id } }
      viaType: bulkOperations(first: 10, query: "type:QUERY") { nodes { id } }
      mutations: bulkOperations(first: 10, query: "operation_type:mutation") { nodes { id } }
      oldest: bulkOperations(first: 1, reverse: true) { nodes { id } }
      current: currentBulkOperation { id }
    }`)).data as any
    const newestFirst = [...all].reverse().map((o) => `gid://shopify/BulkOperation/${o.id}`)
    expect(list.done.nodes.map((n: any) => n.id)).toEqual(newestFirst)
    expect(list.viaType.nodes.map((n: any) => n.id)).toEqual(newestFirst)
    expect(list.mutations.nodes).toEqual([])
    expect(list.oldest.nodes[0].id).toBe(newestFirst.at(-1))
    expect(list.current.id).toBe(newestFirst[0])
    const node = (await client.request(`query($id: ID!) { node(id: $id) { __typename ... on BulkOperation { status url } } }`, { variables: { id: newestFirst.at(-1) } })).data as any
    expect(node.node.__typename).toBe("BulkOperation")
    expect(node.node.url).toContain("/bulk-results/")
  })

  it("refuses tampered result URLs", async () => {
    const op = sim.shop().bulkOperations().find((o) => o.resultPath !== null)!
    const url = sim.shop().bulk.resultUrl(op)!
    const tampered = url.replace(/X-Goog-Signature=[0-9a-f]/, "X-Goog-Signature=z")
    expect((await fetch(tampered)).status).toBe(403)
  })
})

describe("bulk query concurrency and lifecycle (manual pace)", () => {
  let sim: RunningShopifySimulator
  beforeAll(async () => {
    sim = await startSim({ bulkPace: "manual", shops: [{ domain: SHOP, accessToken: TOKEN, products: 30 }] })
  })
  afterAll(() => sim.close())

  it("allows 5 concurrent query operations and answers LIMIT_REACHED for the 6th", async () => {
    const client = clientFor(sim)
    const q = `{ products { edges { node { id } } } }`
    const ids: Array<string> = []
    for (let i = 0; i < 5; i++) {
      const r = (await client.request(RUN_QUERY, { variables: { q } })).data as any
      expect(r.bulkOperationRunQuery.userErrors).toEqual([])
      ids.push(r.bulkOperationRunQuery.bulkOperation.id)
    }
    const sixth = (await client.request(RUN_QUERY, { variables: { q } })).data as any
    expect(sixth.bulkOperationRunQuery).toEqual({
      bulkOperation: null,
      userErrors: [{ field: null, message: "Bulk operations limit reached. Please try again later.", code: "LIMIT_REACHED" }]
    })
    // Stepping by hand: CREATED -> RUNNING with a growing objectCount -> COMPLETED.
    const bulk = sim.shop().bulk
    expect(bulk.get(Number(ids[0]!.split("/").pop()))?.status).toBe("CREATED")
    await bulk.start(ids[0]!)
    const running = ((await client.request(POLL, { variables: { id: ids[0] } })).data as any).bulkOperation
    expect(running).toMatchObject({ status: "RUNNING", objectCount: "0", url: null })
    await bulk.step(ids[0]!, 10)
    expect(((await client.request(POLL, { variables: { id: ids[0] } })).data as any).bulkOperation.objectCount).toBe("10")
    await bulk.complete(ids[0]!)
    expect(((await client.request(POLL, { variables: { id: ids[0] } })).data as any).bulkOperation).toMatchObject({ status: "COMPLETED", objectCount: "30" })
    // A slot is free again.
    const seventh = (await client.request(RUN_QUERY, { variables: { q } })).data as any
    expect(seventh.bulkOperationRunQuery.userErrors).toEqual([])
  })

  it("cancels: CANCELING, then CANCELED once the runner gets to it; finished ops are not cancelable", async () => {
    const client = clientFor(sim)
    const active = sim.shop().bulkOperations().filter((o) => o.status === "CREATED")
    const target = `gid://shopify/BulkOperation/${active[0]!.id}`
    const cancel = (await client.request(`mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }`, { variables: { id: target } })).data as any
    expect(cancel.bulkOperationCancel).toEqual({ bulkOperation: { status: "CANCELING" }, userErrors: [] })
    const final = await sim.shop().bulk.complete(target)
    expect(final.status).toBe("CANCELED")
    const again = (await client.request(`mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }`, { variables: { id: target } })).data as any
    expect(again.bulkOperationCancel.bulkOperation.status).toBe("CANCELED")
    expect(again.bulkOperationCancel.userErrors).toHaveLength(1)
    await sim.shop().bulk.completeAll()
    expect(sim.shop().bulkOperations().every((o) => o.status === "COMPLETED" || o.status === "CANCELED")).toBe(true)
  })
})
