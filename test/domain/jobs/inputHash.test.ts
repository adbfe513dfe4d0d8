import { describe, expect, it } from "vitest"
import { canonicalJobInput, canonicalUndoInput, type JobInput, type JobParameters } from "../../../domain/jobs/index.ts"

const input: JobParameters = {
  queryString: "status:active tag:winter",
  namespace: "custom",
  key: "seasonal_badge",
  type: "single_line_text_field",
  value: "Winter Collection",
  dryRun: true,
  maxItems: 5000
}
const SHOP = "example.myshopify.com"

describe("canonicalJobInput", () => {
  it("is a versioned JSON array of the shop and every parameter in a fixed order", () => {
    expect(canonicalJobInput(SHOP, input)).toBe(
      "[\"sumeru/jobs/input/v1\",\"example.myshopify.com\",\"status:active tag:winter\",\"custom\",\"seasonal_badge\",\"single_line_text_field\",\"Winter Collection\",true,5000]"
    )
  })

  it("does not depend on property order", () => {
    const reordered: JobParameters = {
      maxItems: 5000,
      dryRun: true,
      value: "Winter Collection",
      type: "single_line_text_field",
      key: "seasonal_badge",
      namespace: "custom",
      queryString: "status:active tag:winter"
    }
    expect(canonicalJobInput(SHOP, reordered)).toBe(canonicalJobInput(SHOP, input))
  })

  it.each<[string, Partial<JobParameters>]>([
    ["queryString", { queryString: "status:draft" }],
    ["namespace", { namespace: "other" }],
    ["key", { key: "other_key" }],
    ["type", { type: "multi_line_text_field" }],
    ["value", { value: "Summer Collection" }],
    ["dryRun (a dry run then the real run is not a duplicate)", { dryRun: false }],
    ["maxItems", { maxItems: 5001 }]
  ])("changes with %s", (_, change) => {
    expect(canonicalJobInput(SHOP, { ...input, ...change })).not.toBe(canonicalJobInput(SHOP, input))
  })

  it("changes with the shop, ignoring case and surrounding spaces", () => {
    expect(canonicalJobInput("other.myshopify.com", input)).not.toBe(canonicalJobInput(SHOP, input))
    expect(canonicalJobInput(" Example.MyShopify.com ", input)).toBe(canonicalJobInput(SHOP, input))
  })

  it("ignores where the request came from (Flow run id, envelope domain)", () => {
    const fromFlow: JobInput = { ...input, actionRunId: "run-1", shopDomain: SHOP }
    const fromApi: JobInput = { ...input, actionRunId: null, shopDomain: null }
    expect(canonicalJobInput(SHOP, fromFlow)).toBe(canonicalJobInput(SHOP, fromApi))
  })

  it("keeps field boundaries: moving text between fields gives another key", () => {
    const a = canonicalJobInput(SHOP, { ...input, namespace: "abc_", key: "de" })
    const b = canonicalJobInput(SHOP, { ...input, namespace: "abc", key: "_de" })
    expect(a).not.toBe(b)
    const c = canonicalJobInput(SHOP, { ...input, queryString: "a\",\"b" })
    expect(JSON.parse(c)[2]).toBe("a\",\"b")
  })
})

describe("canonicalUndoInput", () => {
  it("names the original job and differs from any job input", () => {
    expect(canonicalUndoInput(SHOP, "550e8400")).toBe("[\"sumeru/jobs/undo/v1\",\"example.myshopify.com\",\"550e8400\"]")
    expect(canonicalUndoInput(SHOP, "550e8400")).not.toBe(canonicalUndoInput(SHOP, "550e8401"))
  })
})
