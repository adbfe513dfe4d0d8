import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { validateMetafieldValue, type RunningShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { SHOP, TOKEN, clientFor, startSim } from "./support.ts"

const SET = `mutation Set($m: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $m) { metafields { id namespace key type value compareDigest } userErrors { field message code elementIndex } }
}`

describe("metafieldsSet", () => {
  let sim: RunningShopifySimulator
  const set = async (metafields: ReadonlyArray<Record<string, unknown>>) => {
    const r = await clientFor(sim).request(SET, { variables: { m: metafields } })
    expect(r.errors).toBeUndefined()
    return (r.data as any).metafieldsSet as { metafields: Array<any>; userErrors: Array<any> }
  }
  const owner = (n: number) => sim.shop().productGid(n)
  beforeAll(async () => {
    sim = await startSim({ shops: [{ domain: SHOP, accessToken: TOKEN, products: [{ title: "A" }, { title: "B" }, { title: "C" }] }] })
  })
  afterAll(() => sim.close())

  it("creates and updates metafields of several types in one call, in input order", async () => {
    const result = await set([
      { ownerId: owner(1), namespace: "custom", key: "num", type: "number_integer", value: "-9007199254740991" },
      { ownerId: owner(1), namespace: "custom", key: "when", type: "date_time", value: "2026-01-01T10:00:00" },
      { ownerId: owner(2), namespace: "custom", key: "list", type: "list.single_line_text_field", value: `["a","b"]` }
    ])
    expect(result.userErrors).toEqual([])
    expect(result.metafields.map((m) => [m.key, m.type, m.value])).toEqual([
      ["num", "number_integer", "-9007199254740991"],
      ["when", "date_time", "2026-01-01T10:00:00"],
      ["list", "list.single_line_text_field", `["a","b"]`]
    ])
    const updated = await set([{ ownerId: owner(1), namespace: "custom", key: "num", value: "42" }])
    expect(updated.metafields[0]).toMatchObject({ id: result.metafields[0].id, type: "number_integer", value: "42" })
    expect(sim.shop().metafield(1, "custom", "num")?.value).toBe("42")
  })

  it("is atomic: one invalid entry means nothing is written", async () => {
    const result = await set([
      { ownerId: owner(3), namespace: "custom", key: "ok1", type: "boolean", value: "true" },
      { ownerId: owner(3), namespace: "custom", key: "bad", type: "color", value: "red" }
    ])
    expect(result.metafields).toEqual([])
    expect(result.userErrors).toEqual([
      { field: ["metafields", "1", "value"], message: "Value must be a hex color code (#RRGGBB).", code: "INVALID_VALUE", elementIndex: null }
    ])
    expect(sim.shop().metafield(3, "custom", "ok1")).toBeUndefined()
  })

  it.each([
    ["boolean", "yes"],
    ["number_integer", "1.5"],
    ["number_integer", "9007199254740992"],
    ["number_decimal", "1.1234567891"],
    ["json", "{bad"],
    ["date", "2026-02-30"],
    ["date_time", "2026-01-01 10:00"],
    ["url", "ftp://example.com"],
    ["url", "javascript:alert(1)"],
    ["color", "#12345"],
    ["single_line_text_field", "two\nlines"]
  ])("refuses %s value %j with INVALID_VALUE", async (type, value) => {
    const result = await set([{ ownerId: owner(1), namespace: "custom", key: "val", type, value }])
    expect(result.userErrors).toHaveLength(1)
    expect(result.userErrors[0]).toMatchObject({ code: "INVALID_VALUE", field: ["metafields", "0", "value"], elementIndex: null })
  })

  it.each([
    ["number_decimal", "-12.5"],
    ["json", `{"a":[1]}`],
    ["date", "2024-02-29"],
    ["url", "mailto:a@example.com"],
    ["color", "#A1b2C3"],
    ["multi_line_text_field", "a\nb"],
    ["money", `{"amount":"5.99","currency_code":"USD"}`]
  ])("accepts %s value %j", (type, value) => {
    expect(validateMetafieldValue(type, value)).toBeUndefined()
  })

  it("reports the offending list element in elementIndex", async () => {
    const result = await set([{ ownerId: owner(1), namespace: "custom", key: "nums", type: "list.number_integer", value: `[1, 2, "x"]` }])
    expect(result.userErrors[0]).toMatchObject({ code: "INVALID_VALUE", elementIndex: 2 })
  })

  it("uses Shopify's codes for bad types, blanks, keys, owners and the 25-per-call cap", async () => {
    expect((await set([{ ownerId: owner(1), namespace: "custom", key: "tt", type: "nope", value: "x" }])).userErrors[0]).toMatchObject({ code: "INVALID_TYPE", field: ["metafields", "0", "type"] })
    expect((await set([{ ownerId: owner(1), namespace: "custom", key: "tt", type: "boolean", value: "" }])).userErrors[0]).toMatchObject({ code: "BLANK", field: ["metafields", "0", "value"] })
    expect((await set([{ ownerId: owner(1), namespace: "custom", key: "brand_new", value: "x" }])).userErrors[0]).toMatchObject({ code: "BLANK", field: ["metafields", "0", "type"] })
    expect((await set([{ ownerId: owner(1), namespace: "custom", key: "k", type: "boolean", value: "true" }])).userErrors[0]).toMatchObject({ code: "TOO_SHORT", field: ["metafields", "0", "key"] })
    expect((await set([{ ownerId: owner(1), namespace: "custom", key: "bad key", type: "boolean", value: "true" }])).userErrors[0]).toMatchObject({ code: "INVALID" })
    expect((await set([{ ownerId: "gid://shopify/Product/999", namespace: "custom", key: "kk", type: "boolean", value: "true" }])).userErrors[0]).toMatchObject({ field: ["metafields", "0", "ownerId"] })
    const many = Array.from({ length: 26 }, (_, i) => ({ ownerId: owner(1), namespace: "custom", key: `k${i}x`, type: "boolean", value: "true" }))
    expect((await set(many)).userErrors).toEqual([{ field: ["metafields"], message: "Exceeded the maximum metafields input limit of 25.", code: "LESS_THAN_OR_EQUAL_TO", elementIndex: null }])
  })

  it("uses the app-reserved namespace when namespace is omitted", async () => {
    const result = await set([{ ownerId: owner(2), key: "secret", type: "single_line_text_field", value: "x" }])
    expect(result.metafields[0].namespace).toBe("app--1")
  })

  it("honours compareDigest: current digest succeeds, stale or null-for-existing gives STALE_OBJECT", async () => {
    const first = await set([{ ownerId: owner(2), namespace: "custom", key: "cd", type: "single_line_text_field", value: "v1" }])
    const digest = first.metafields[0].compareDigest
    const second = await set([{ ownerId: owner(2), namespace: "custom", key: "cd", value: "v2", compareDigest: digest }])
    expect(second.userErrors).toEqual([])
    const stale = await set([{ ownerId: owner(2), namespace: "custom", key: "cd", value: "v3", compareDigest: digest }])
    expect(stale.userErrors[0].code).toBe("STALE_OBJECT")
    const mustNotExist = await set([{ ownerId: owner(2), namespace: "custom", key: "cd", value: "v3", compareDigest: null }])
    expect(mustNotExist.userErrors[0].code).toBe("STALE_OBJECT")
    const created = await set([{ ownerId: owner(2), namespace: "custom", key: "fresh", type: "boolean", value: "true", compareDigest: null }])
    expect(created.userErrors).toEqual([])
    expect(sim.shop().metafield(2, "custom", "cd")?.value).toBe("v2")
  })

  it("deletes metafields with metafieldsDelete, returning null for ones that did not exist", async () => {
    const r = await clientFor(sim).request(
      `mutation($m: [MetafieldIdentifierInput!]!) { metafieldsDelete(metafields: $m) { deletedMetafields { ownerId namespace key } userErrors { field message } } }`,
      { variables: { m: [{ ownerId: owner(2), namespace: "custom", key: "fresh" }, { ownerId: owner(2), namespace: "custom", key: "never" }] } }
    )
    expect((r.data as any).metafieldsDelete).toEqual({
      deletedMetafields: [{ ownerId: owner(2), namespace: "custom", key: "fresh" }, null],
      userErrors: []
    })
    expect(sim.shop().metafield(2, "custom", "fresh")).toBeUndefined()
  })
})
