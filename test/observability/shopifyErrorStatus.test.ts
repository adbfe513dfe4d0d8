/**
 * The labels of the job metrics: the `status` of `sumeru_shopify_api_errors_total` for every
 * kind of answer the Admin API adapter classifies, and the job size buckets of
 * `sumeru_job_duration_seconds`.
 */
import { describe, expect, it } from "vitest"
import { type AdminResponse, apiErrorStatus, classifyAdminResponse } from "../../adapters/shopify/index.ts"
import { jobSizeBucket } from "../../src/server/Metrics.ts"

const statusOf = (r: AdminResponse) => apiErrorStatus(r, classifyAdminResponse(r))
const cost = { cost: { requestedQueryCost: 10, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 5, restoreRate: 100 } } }

describe("sumeru_shopify_api_errors_total status label", () => {
  it("is absent for a successful answer", () => {
    expect(statusOf({ data: { shop: { name: "acme" } } })).toBeUndefined()
  })

  it("is the HTTP status of a non-2xx answer (429 and 5xx included)", () => {
    for (const status of [401, 403, 404, 429, 500, 502, 503]) {
      expect(statusOf({ errors: { networkStatusCode: status, message: `HTTP ${status}` }, bodyText: "" })).toBe(String(status))
    }
  })

  it("is `network` when no answer came", () => {
    expect(statusOf({ errors: { message: "fetch failed: ECONNREFUSED" } })).toBe("network")
  })

  it("is the GraphQL error code of an HTTP 200 (THROTTLED, MAX_COST_EXCEEDED, INTERNAL_SERVER_ERROR, others)", () => {
    const graphql = (code: string | undefined): AdminResponse => ({
      errors: { networkStatusCode: 200, message: "GraphQL errors", graphQLErrors: [{ message: "no", ...(code === undefined ? {} : { extensions: { code } }) }] },
      extensions: cost
    })
    expect(statusOf(graphql("THROTTLED"))).toBe("THROTTLED")
    expect(statusOf(graphql("MAX_COST_EXCEEDED"))).toBe("MAX_COST_EXCEEDED")
    expect(statusOf(graphql("INTERNAL_SERVER_ERROR"))).toBe("INTERNAL_SERVER_ERROR")
    expect(statusOf(graphql("ACCESS_DENIED"))).toBe("ACCESS_DENIED")
    expect(statusOf(graphql(undefined))).toBe("GRAPHQL_ERROR")
  })

  it("is INVALID_RESPONSE for a 200 that is not a GraphQL response", () => {
    expect(statusOf({ errors: { networkStatusCode: 200, message: "unexpected token <" } })).toBe("INVALID_RESPONSE")
  })
})

describe("sumeru_job_duration_seconds size label", () => {
  it("buckets jobs by products matched", () => {
    expect([0, 1, 100, 101, 1_000, 1_001, 10_000, 10_001, 100_000, 100_001, 5_000_000].map(jobSizeBucket)).toEqual([
      "0", "1-100", "1-100", "101-1000", "101-1000", "1001-10000", "1001-10000", "10001-100000", "10001-100000", "100001+", "100001+"
    ])
  })
})
