/** Every GraphQL document of the decision plane's Shopify actions validates against the real 2026-07 Admin schema. */
import { describe, expect, it } from "vitest"
import * as Documents from "../../adapters/shopify/actions/documents.ts"
import { validateAdminDocument } from "../../src/simulator/shopify/index.ts"
import "./support.ts"

const documents = Object.entries(Documents).filter(([, v]) => typeof v === "string") as Array<[string, string]>

describe("the actions' GraphQL documents", () => {
  it("finds them", () => {
    expect(documents.length).toBeGreaterThan(0)
  })

  it.each(documents)("%s validates against the 2026-07 Admin schema", (_, document) => {
    expect(validateAdminDocument(document)).toEqual([])
  })
})
