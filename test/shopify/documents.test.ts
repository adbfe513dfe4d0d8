/**
 * Every GraphQL document the adapter can send validates against the real 2026-07 Admin
 * schema (`validateAdminDocument`), and bulk documents also pass the simulator's bulk rules.
 */
import { describe, expect, it } from "vitest"
import { loadAdminSchema, validateAdminDocument } from "../../src/simulator/shopify/index.ts"
import { planBulkQuery } from "../../src/simulator/shopify/bulk/bulkQuery.ts"
import { planBulkMutation } from "../../src/simulator/shopify/bulk/bulkMutation.ts"
import * as Documents from "../../adapters/shopify/documents.ts"
import * as MetafieldJsonl from "../../adapters/shopify/MetafieldJsonl.ts"
import "./support.ts"

const isDocument = (v: unknown): v is string => typeof v === "string" && /^\s*(query|mutation|\{)/.test(v)

/** Static documents: every exported GraphQL string of the two modules (new ones are picked up automatically). */
const staticDocuments = Object.entries({ ...Documents, ...MetafieldJsonl }).filter(([, v]) => isDocument(v)) as Array<[string, string]>

const TARGET = { namespace: "custom", key: "seasonal_badge" }
const searches = ["", "status:active tag:winter", `title:"Red \\"Big\\" Shirt" OR vendor:'O''Neil'`, "tag:a\nb\t\u00e9\u{1F600}"]

/** Documents built at runtime, with representative and hostile arguments. */
const builtDocuments: Array<[string, string]> = [
  ...searches.map((s, i): [string, string] => [`productMetafieldSnapshotQuery #${i}`, MetafieldJsonl.productMetafieldSnapshotQuery(s, TARGET)]),
  ...[MetafieldJsonl.METAFIELDS_SET_MUTATION, MetafieldJsonl.METAFIELDS_DELETE_MUTATION].flatMap((m, i) =>
    ["job-1:chunk-0", "ünïcødé / 🙂 \" ' \\", "x".repeat(255)].map((id): [string, string] => {
      const tagged = Documents.tagBulkMutation(m, id)
      if (!("document" in tagged)) throw new Error(tagged.error)
      return [`tagBulkMutation #${i} ${id.slice(0, 20)}`, tagged.document]
    })
  )
]

describe("GraphQL documents", () => {
  it("finds the adapter's static documents", () => {
    expect(staticDocuments.map(([name]) => name).sort()).toEqual([
      "BULK_MUTATION_RUN",
      "BULK_OPERATION",
      "BULK_OPERATIONS",
      "BULK_OPERATION_CANCEL",
      "BULK_QUERY_RUN",
      "METAFIELDS_DELETE_MUTATION",
      "METAFIELDS_SET_MUTATION",
      "PRODUCT_METAFIELD_CURRENT_QUERY",
      "STAGED_UPLOADS_CREATE"
    ])
  })

  it.each([...staticDocuments, ...builtDocuments])("%s validates against the 2026-07 Admin schema", (_, document) => {
    expect(validateAdminDocument(document)).toEqual([])
  })

  it("bulk documents also satisfy the bulk operation rules", () => {
    const schema = loadAdminSchema()
    for (const s of searches) {
      const planned = planBulkQuery(schema, MetafieldJsonl.productMetafieldSnapshotQuery(s, TARGET))
      expect(planned.ok ? "ok" : planned.message).toBe("ok")
    }
    for (const [, document] of builtDocuments.filter(([name]) => name.startsWith("tagBulkMutation"))) {
      const planned = planBulkMutation(schema, document)
      expect(planned.ok ? "ok" : planned.message).toBe("ok")
    }
  })

  it("round-trips client identifiers through the operation name", () => {
    for (const id of ["job-1:chunk-0", "a_b", "ünïcødé / 🙂", "x".repeat(255)]) {
      const tagged = Documents.tagBulkMutation(MetafieldJsonl.METAFIELDS_SET_MUTATION, id)
      expect("document" in tagged && Documents.clientIdentifierOf(tagged.document)).toBe(id)
    }
    expect(Documents.clientIdentifierOf(MetafieldJsonl.METAFIELDS_SET_MUTATION)).toBeNull()
    expect(Documents.tagBulkMutation(MetafieldJsonl.METAFIELDS_SET_MUTATION, "")).toEqual({ error: "clientIdentifier must not be empty" })
    expect(Documents.tagBulkMutation("{ shop { name } }", "job")).toEqual({ error: "a bulk mutation document must be a mutation" })
    expect(Documents.tagBulkMutation("mutation {", "job")).toMatchObject({ error: expect.stringContaining("does not parse") })
  })

  it("checks the seed's documents: a quoted enum does not validate", () => {
    // groupObjects is `Boolean! = false` in 2026-07: omitting it is valid (we still send it explicitly).
    expect(validateAdminDocument(`mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }") { bulkOperation { id } userErrors { field message } } }`)).toEqual([])
    // `resource` is an enum, not a string.
    expect(
      validateAdminDocument(
        `mutation { stagedUploadsCreate(input: [{ resource: "BULK_MUTATION_VARIABLES", filename: "f", mimeType: "text/jsonl", httpMethod: POST }]) { stagedTargets { url } userErrors { message } } }`
      )[0]
    ).toMatch(/resource/)
  })
})
