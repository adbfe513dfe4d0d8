import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { RUN_MUTATION, SHOP, clientFor, rawGraphQL, stageJsonl, startSim } from "./support.ts"

const TAGS_ADD = `mutation Add($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }`
const CREATE_REDIRECT = `mutation Create($urlRedirect: UrlRedirectInput!) {
  urlRedirectCreate(urlRedirect: $urlRedirect) { urlRedirect { id path } userErrors { field message code } }
}`

describe("mutation log and faults on the automation mutations", () => {
  let sim: RunningShopifySimulator
  const gidOf = (n: number) => sim.shop().productGid(n)
  beforeAll(async () => {
    sim = await startSim()
  })
  afterEach(async () => {
    sim.shop().faults.clear()
    await sim.shop().bulk.idle()
  })
  afterAll(() => sim.close())

  it("records each executed root mutation with its coerced arguments, however they were written", async () => {
    const shop = sim.shop()
    const mark = shop.mutationLog.total
    await clientFor(sim).request(TAGS_ADD, { variables: { id: gidOf(1), tags: ["a"] } })
    // Inline literals and aliases: two calls in one request, one log entry each.
    await rawGraphQL(sim, `mutation { x: tagsAdd(id: "${gidOf(2)}", tags: "b") { userErrors { message } } tagsRemove(id: "${gidOf(1)}", tags: ["a"]) { userErrors { message } } }`)
    expect(shop.mutationLog.since(mark).map((c) => ({ field: c.field, responseKey: c.responseKey, args: c.args, via: c.via, userErrors: c.userErrors }))).toEqual([
      { field: "tagsAdd", responseKey: "tagsAdd", args: { id: gidOf(1), tags: ["a"] }, via: "request", userErrors: [] },
      { field: "tagsAdd", responseKey: "x", args: { id: gidOf(2), tags: ["b"] }, via: "request", userErrors: [] },
      { field: "tagsRemove", responseKey: "tagsRemove", args: { id: gidOf(1), tags: ["a"] }, via: "request", userErrors: [] }
    ])
    // "Exactly one tagsAdd for product 1 happened."
    expect(shop.mutationCalls("tagsAdd", { id: gidOf(1) })).toHaveLength(1)
    expect(shop.mutationCalls("tagsAdd", { id: gidOf(2), tags: ["b"] })).toHaveLength(1)
  })

  it("records calls that answered userErrors, and leaves out requests refused before execution", async () => {
    const shop = sim.shop()
    const mark = shop.mutationLog.total
    shop.faults.throttleNext(1, { rootField: "tagsAdd" })
    const throttled = await rawGraphQL(sim, TAGS_ADD, { variables: { id: gidOf(3), tags: ["t"] } })
    expect(throttled.body.errors[0].extensions.code).toBe("THROTTLED")
    await rawGraphQL(sim, `mutation { tagsAdd(id: "gid://shopify/Product/999", tags: ["t"]) { userErrors { message } } }`)
    expect(shop.mutationLog.since(mark).map((c) => [c.args["id"], c.userErrors])).toEqual([
      ["gid://shopify/Product/999", [{ field: ["id"], message: "Product does not exist" }]]
    ])
    // The request log still shows every request, throttled included.
    expect(shop.requests.at(-2)).toMatchObject({ rootFields: ["tagsAdd"], outcome: "throttled", variables: { id: gidOf(3), tags: ["t"] } })
    expect(shop.mutationCalls("tagsAdd", { id: gidOf(3) })).toEqual([])
  })

  it("records bulk mutation lines with via: 'bulk'", async () => {
    const shop = sim.shop()
    const client = clientFor(sim)
    const mutation = `mutation call($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }`
    const path = await stageJsonl(client, [4, 5].map((n) => JSON.stringify({ id: gidOf(n), tags: ["bulk"] })))
    const run = (await client.request(RUN_MUTATION, { variables: { mutation, path } })).data as any
    await shop.bulk.whenFinished(run.bulkOperationRunMutation.bulkOperation.id)
    const calls = shop.mutations.filter((c) => c.field === "tagsAdd" && c.via === "bulk")
    expect(calls.map((c) => c.args["id"]).sort()).toEqual([gidOf(4), gidOf(5)].sort())
    expect(shop.mutationCalls("bulkOperationRunMutation")).toHaveLength(1)
  })

  it("fails the next urlRedirectCreate with an HTTP 503 (by root field), then lets the retry through", async () => {
    const shop = sim.shop()
    shop.faults.httpErrorNext(503, 1, { match: { rootField: "urlRedirectCreate" } })
    // A request for another root field does not consume the fault.
    expect((await rawGraphQL(sim, TAGS_ADD, { variables: { id: gidOf(6), tags: ["x"] } })).status).toBe(200)
    const failed = await rawGraphQL(sim, CREATE_REDIRECT, { variables: { urlRedirect: { path: "/flaky", target: "/ok" } } })
    expect(failed.status).toBe(503)
    expect(shop.redirect("/flaky")).toBeUndefined()
    expect(shop.mutationCalls("urlRedirectCreate")).toEqual([])
    const retried = await rawGraphQL(sim, CREATE_REDIRECT, { variables: { urlRedirect: { path: "/flaky", target: "/ok" } } })
    expect(retried.body.data.urlRedirectCreate.userErrors).toEqual([])
    expect(shop.redirect("/flaky")).toMatchObject({ target: "/ok" })
    expect(shop.mutationCalls("urlRedirectCreate", { urlRedirect: { path: "/flaky", target: "/ok" } })).toHaveLength(1)
  })

  it("throttles the next urlRedirectCreate", async () => {
    sim.shop().faults.throttleNext(1, { rootField: "urlRedirectCreate" })
    const throttled = await rawGraphQL(sim, CREATE_REDIRECT, { variables: { urlRedirect: { path: "/throttled", target: "/ok" } } })
    expect(throttled.body.errors[0].extensions.code).toBe("THROTTLED")
    expect(throttled.body.data).toBeUndefined()
    expect(sim.shop().redirect("/throttled")).toBeUndefined()
  })

  it("answers an injected userError for the next call of a root field, changing nothing", async () => {
    const shop = sim.shop()
    shop.faults.userErrorNext("urlRedirectCreate", { message: "Redirect could not be created.", code: "CREATE_FAILED" })
    const injected = await rawGraphQL(sim, CREATE_REDIRECT, { variables: { urlRedirect: { path: "/injected", target: "/ok" } } })
    expect(injected.status).toBe(200)
    expect(injected.body.data.urlRedirectCreate).toEqual({
      urlRedirect: null,
      userErrors: [{ field: null, message: "Redirect could not be created.", code: "CREATE_FAILED" }]
    })
    expect(shop.redirect("/injected")).toBeUndefined()
    expect(shop.mutationCalls("urlRedirectCreate", { urlRedirect: { path: "/injected", target: "/ok" } })).toMatchObject([
      { injected: true, userErrors: [{ message: "Redirect could not be created." }] }
    ])
    // Consumed: the next call runs.
    expect((await rawGraphQL(sim, CREATE_REDIRECT, { variables: { urlRedirect: { path: "/injected", target: "/ok" } } })).body.data.urlRedirectCreate.userErrors).toEqual([])

    // Payloads with a non-null `shop` (publishablePublish) are answered too.
    shop.faults.userErrorNext("publishablePublish", { message: "Something went wrong, please try again.", field: ["id"] })
    const publish = await rawGraphQL(
      sim,
      `mutation($id: ID!) { publishablePublish(id: $id, input: [{ publicationId: "gid://shopify/Publication/2" }]) { publishable { ... on Product { id } } shop { name } userErrors { field message } } }`,
      { variables: { id: gidOf(7) } }
    )
    expect(publish.body.data.publishablePublish).toEqual({
      publishable: null,
      shop: { name: "acme" },
      userErrors: [{ field: ["id"], message: "Something went wrong, please try again." }]
    })
  })

  it("is controllable over HTTP: user-error faults and the mutation log under /__sim/", async () => {
    const post = (body: unknown) =>
      fetch(`${sim.url}/__sim/shops/${SHOP}/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
    expect((await post({ kind: "user-error", rootField: "productUpdate", message: "Try again later" })).status).toBe(200)
    expect((await post({ kind: "user-error", rootField: "productUpdate" })).status).toBe(400)
    const r = await rawGraphQL(sim, `mutation($id: ID!) { productUpdate(product: { id: $id, title: "x" }) { product { id } userErrors { message } } }`, {
      variables: { id: gidOf(8) }
    })
    expect(r.body.data.productUpdate).toEqual({ product: null, userErrors: [{ message: "Try again later" }] })
    const log = (await (await fetch(`${sim.url}/__sim/shops/${SHOP}/mutations?field=productUpdate`)).json()) as Array<any>
    expect(log).toHaveLength(1)
    expect(log[0]).toMatchObject({ field: "productUpdate", args: { product: { id: gidOf(8), title: "x" } }, injected: true })
    // Nested input objects match on the keys given (coercion adds defaults such as deleteConflictingConstrainedMetafields).
    expect(sim.shop().mutationCalls("productUpdate", { product: { id: gidOf(8) } })).toHaveLength(1)
    expect(sim.shop().mutationCalls("productUpdate", { product: { id: gidOf(9) } })).toHaveLength(0)
    const redirects = (await (await fetch(`${sim.url}/__sim/shops/${SHOP}/url-redirects`)).json()) as Array<any>
    expect(redirects).toEqual(sim.shop().redirects())
  })
})
