import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MAX_STAGED_UPLOAD_BYTES, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import {
  POLL,
  RUN_MUTATION,
  SHOP,
  TOKEN,
  clientFor,
  createStagedTarget,
  stageJsonl,
  startSim,
  uploadToTarget
} from "./support.ts"

const SET = `mutation call($input: MetafieldsSetInput!) { metafieldsSet(metafields: [$input]) { metafields { key value } userErrors { field message code elementIndex } } }`
const DELETE = `mutation undo($input: MetafieldIdentifierInput!) { metafieldsDelete(metafields: [$input]) { deletedMetafields { ownerId namespace key } userErrors { field message } } }`

const line = (ownerId: string, type: string, value: string, key = "badge") =>
  JSON.stringify({ input: { ownerId, namespace: "custom", key, type, value } })

describe("staged uploads", () => {
  let sim: RunningShopifySimulator
  beforeAll(async () => {
    sim = await startSim()
  })
  afterAll(() => sim.close())

  it("returns a POST target on the simulator with Shopify's parameters, in order, and resourceUrl null", async () => {
    const target = await createStagedTarget(clientFor(sim))
    expect(target.url).toBe(`${sim.url}/staged-uploads`)
    expect(target.resourceUrl).toBeNull()
    expect(target.parameters.map((p) => p.name)).toEqual([
      "key",
      "Content-Type",
      "success_action_status",
      "acl",
      "policy",
      "x-goog-credential",
      "x-goog-algorithm",
      "x-goog-date",
      "x-goog-signature"
    ])
    const value = (name: string) => target.parameters.find((p) => p.name === name)?.value
    expect(value("key")).toMatch(new RegExp(`^tmp/${sim.shop().number}/bulk/[0-9a-f-]{36}/bulk_op_vars$`))
    expect(value("Content-Type")).toBe("text/jsonl")
    expect(value("success_action_status")).toBe("201")
    expect(value("acl")).toBe("private")
    expect(value("x-goog-algorithm")).toBe("GOOG4-RSA-SHA256")
    const policy = JSON.parse(Buffer.from(value("policy")!, "base64").toString("utf8"))
    expect(policy.conditions).toContainEqual(["content-length-range", 1, 104857600])
  })

  it("accepts the file as the last field (201) and refuses it anywhere else (400), or with a missing field", async () => {
    const client = clientFor(sim)
    const target = await createStagedTarget(client)
    const wrong = await uploadToTarget(target, `{"a":1}\n`, { fileFirst: true })
    expect(wrong.status).toBe(400)
    expect(await wrong.text()).toContain("<Code>InvalidArgument</Code>")
    const missing = await uploadToTarget(target, `{"a":1}\n`, { skip: "policy" })
    expect(missing.status).toBe(400)
    expect(sim.shop().stagedFiles()).toHaveLength(0)
    const ok = await uploadToTarget(target, `{"a":1}\n`)
    expect(ok.status).toBe(201)
    expect(await ok.text()).toContain("<PostResponse>")
    const [file] = sim.shop().stagedFiles()
    expect(file?.key).toBe(target.parameters[0]!.value)
    expect(file?.size).toBe(8)
  })

  it("refuses a forged signature and an empty file", async () => {
    const target = await createStagedTarget(clientFor(sim))
    const forged = { ...target, parameters: target.parameters.map((p) => (p.name === "x-goog-signature" ? { ...p, value: "00" } : p)) }
    expect((await uploadToTarget(forged, `{"a":1}\n`)).status).toBe(403)
    expect((await uploadToTarget(target, "")).status).toBe(400)
  })

  it("enforces the size cap (100 MB by default) while streaming", async () => {
    expect(MAX_STAGED_UPLOAD_BYTES).toBe(100 * 1024 * 1024)
    const small = await startSim({ maxStagedUploadBytes: 64 * 1024 })
    try {
      const target = await createStagedTarget(clientFor(small))
      const policy = JSON.parse(Buffer.from(target.parameters.find((p) => p.name === "policy")!.value, "base64").toString("utf8"))
      expect(policy.conditions).toContainEqual(["content-length-range", 1, 64 * 1024])
      const tooBig = await uploadToTarget(target, "x".repeat(3 * 64 * 1024))
      expect(tooBig.status).toBe(400)
      expect(await tooBig.text()).toContain("EntityTooLarge")
      expect(small.shop().stagedFiles()).toHaveLength(0)
      expect((await uploadToTarget(target, "x".repeat(64 * 1024))).status).toBe(201)
    } finally {
      await small.close()
    }
  })
})

describe("bulk mutation operations", () => {
  let sim: RunningShopifySimulator
  beforeAll(async () => {
    sim = await startSim({ shops: [{ domain: SHOP, accessToken: TOKEN, products: 10, seed: 7 }] })
  })
  afterAll(() => sim.close())

  it("runs metafieldsSet per JSONL line with per-line userErrors, variable errors and JSON errors, keyed by __lineNumber", async () => {
    const client = clientFor(sim)
    const shop = sim.shop()
    const p = (n: number) => shop.productGid(n)
    const path = await stageJsonl(client, [
      line(p(1), "single_line_text_field", "Winter"),
      line(p(2), "number_integer", "abc", "count"),
      `{"input": {not json`,
      line(p(3), "boolean", "true", "flag"),
      JSON.stringify({ input: { namespace: "custom", key: "x1", type: "boolean", value: "true" } }),
      line(p(4), "date", "2026-13-01", "day"),
      line("gid://shopify/Product/9999", "single_line_text_field", "x"),
      line(p(5), "number_integer", "9007199254740992", "count")
    ])
    const run = (await client.request(RUN_MUTATION, { variables: { mutation: SET, path, clientIdentifier: "job-1" } })).data as any
    expect(run.bulkOperationRunMutation.userErrors).toEqual([])
    const id = run.bulkOperationRunMutation.bulkOperation.id
    await shop.bulk.whenFinished(id)
    const op = ((await client.request(POLL, { variables: { id } })).data as any).bulkOperation
    expect(op).toMatchObject({ status: "COMPLETED", type: "MUTATION", objectCount: "8", rootObjectCount: "8", query: SET })
    const lines = (await (await fetch(op.url)).text()).trimEnd().split("\n").map((l) => JSON.parse(l))
    const numbers = lines.map((l) => l.__lineNumber)
    expect([...numbers].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(numbers).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]) // Shopify does not keep input order
    const byLine = new Map(lines.map((l) => [l.__lineNumber, l]))
    expect(byLine.get(0)).toEqual({ data: { metafieldsSet: { metafields: [{ key: "badge", value: "Winter" }], userErrors: [] } }, __lineNumber: 0 })
    expect(byLine.get(1)).toEqual({
      data: { metafieldsSet: { metafields: [], userErrors: [{ field: ["metafields", "0", "value"], message: "Value must be an integer.", code: "INVALID_VALUE", elementIndex: null }] } },
      __lineNumber: 1
    })
    expect(byLine.get(2).errors[0].message).toMatch(/^Invalid JSON on line 2/)
    expect(byLine.get(3).data.metafieldsSet.userErrors).toEqual([])
    expect(byLine.get(4).errors[0]).toMatchObject({
      message: "Variable $input of type MetafieldsSetInput! was provided invalid value for ownerId (Expected value to not be null)",
      extensions: { code: "INVALID_VARIABLE" }
    })
    expect(byLine.get(5).data.metafieldsSet.userErrors[0]).toMatchObject({ code: "INVALID_VALUE", field: ["metafields", "0", "value"] })
    expect(byLine.get(6).data.metafieldsSet.userErrors[0]).toMatchObject({ field: ["metafields", "0", "ownerId"] })
    expect(byLine.get(7).data.metafieldsSet.userErrors[0]).toMatchObject({ code: "INVALID_VALUE" })

    expect(shop.metafield(1, "custom", "badge")?.value).toBe("Winter")
    expect(shop.metafield(3, "custom", "flag")?.value).toBe("true")
    expect(shop.metafield(2, "custom", "count")).toBeUndefined()
    const recorded = shop.bulkOperations().find((o) => `gid://shopify/BulkOperation/${o.id}` === id)
    expect(recorded).toMatchObject({ stagedUploadPath: path, clientIdentifier: "job-1", query: SET })

    // Undo: delete what did not exist before, with metafieldsDelete in another bulk mutation.
    const undoPath = await stageJsonl(client, [
      JSON.stringify({ input: { ownerId: p(1), namespace: "custom", key: "badge" } }),
      JSON.stringify({ input: { ownerId: p(3), namespace: "custom", key: "flag" } }),
      JSON.stringify({ input: { ownerId: p(2), namespace: "custom", key: "count" } })
    ])
    const undo = (await client.request(RUN_MUTATION, { variables: { mutation: DELETE, path: undoPath } })).data as any
    const undone = await shop.bulk.whenFinished(undo.bulkOperationRunMutation.bulkOperation.id)
    const undoLines = (await shop.bulkResultLines(undone.id)) as Array<any>
    const missing = undoLines.find((l) => l.__lineNumber === 2)
    expect(missing.data.metafieldsDelete.deletedMetafields).toEqual([null])
    expect(shop.metafield(1, "custom", "badge")).toBeUndefined()
    expect(shop.metafield(3, "custom", "flag")).toBeUndefined()
  })

  it("refuses unknown staged paths, invalid mutations and nested bulk operations at submission", async () => {
    const client = clientFor(sim)
    const submit = async (mutation: string, path: string) =>
      ((await client.request(RUN_MUTATION, { variables: { mutation, path } })).data as any).bulkOperationRunMutation
    const unknown = await submit(SET, `tmp/${sim.shop().number}/bulk/00000000-0000-4000-8000-000000000000/x`)
    expect(unknown).toMatchObject({ bulkOperation: null, userErrors: [{ code: "NO_SUCH_FILE", field: ["stagedUploadPath"] }] })
    const foreign = await submit(SET, "https://cdn.shopify.com/some/file.jsonl")
    expect(foreign.userErrors[0].code).toBe("NO_SUCH_FILE")
    const path = await stageJsonl(client, [line(sim.shop().productGid(1), "boolean", "true", "b1")])
    expect((await submit(`mutation { nope }`, path)).userErrors[0].code).toBe("INVALID_MUTATION")
    expect((await submit(`mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) { userErrors { message } } }`, path)).userErrors[0].code).toBe(
      "INVALID_MUTATION"
    )
  })

  it("allows 5 concurrent mutations and answers LIMIT_REACHED for the 6th (manual pace)", async () => {
    const manual = await startSim({ bulkPace: "manual" })
    try {
      const client = clientFor(manual)
      const path = await stageJsonl(client, [line(manual.shop().productGid(1), "boolean", "true", "b1")])
      for (let i = 0; i < 5; i++) {
        const r = (await client.request(RUN_MUTATION, { variables: { mutation: SET, path } })).data as any
        expect(r.bulkOperationRunMutation.userErrors).toEqual([])
      }
      const sixth = (await client.request(RUN_MUTATION, { variables: { mutation: SET, path } })).data as any
      expect(sixth.bulkOperationRunMutation.userErrors).toEqual([{ field: null, message: "Bulk operations limit reached. Please try again later.", code: "LIMIT_REACHED" }])
      // Queries have their own 5 slots.
      const query = (await client.request(`mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }", groupObjects: false) { userErrors { code } } }`)).data as any
      expect(query.bulkOperationRunQuery.userErrors).toEqual([])
    } finally {
      await manual.close()
    }
  })

  it("fails a running mutation with INTERNAL_SERVER_ERROR when its staged file is replaced", async () => {
    const manual = await startSim({ bulkPace: "manual" })
    try {
      const client = clientFor(manual)
      const target = await createStagedTarget(client)
      expect((await uploadToTarget(target, `${line(manual.shop().productGid(1), "boolean", "true", "b1")}\n`)).status).toBe(201)
      const path = target.parameters[0]!.value
      const run = (await client.request(RUN_MUTATION, { variables: { mutation: SET, path } })).data as any
      const id = run.bulkOperationRunMutation.bulkOperation.id
      await manual.shop().bulk.start(id)
      expect((await uploadToTarget(target, `${line(manual.shop().productGid(2), "boolean", "true", "b1")}\n`)).status).toBe(201)
      const final = await manual.shop().bulk.complete(id)
      expect(final).toMatchObject({ status: "FAILED", errorCode: "INTERNAL_SERVER_ERROR" })
      expect(manual.shop().metafield(1, "custom", "b1")).toBeUndefined()
    } finally {
      await manual.close()
    }
  })
})
