/**
 * `POST /webhooks/flow-action` — the Flowmend Flow action (seed 002). Verifies Shopify's
 * HMAC over the raw body, validates every field (all errors at once), applies the
 * idempotency rules and answers only after the job request is durably in the shop's log.
 *
 * Status codes: the seed's plain body gets 202 (accepted) / 409 (duplicate). Shopify Flow's
 * envelope gets 200, because Flow treats any other 2xx as "not processed" and re-sends; a
 * re-send of the same `action_run_id` gets 200 with the same job (never a second job, never
 * a 4xx that would fail the merchant's workflow step).
 */
import { Effect } from "effect"
import type { Hono } from "hono"
import { validateFlowActionInput } from "../../domain/jobs/index.ts"
import { JobIngress } from "../../src/jobs/JobIngress.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { problem, Problems, readRawBody } from "./HttpProblem.ts"
import { verifyHmac } from "./ShopifyHmac.ts"

export const FLOW_BODY_LIMIT = 64 * 1024

export type RunJobIngress = <A, E>(effect: Effect.Effect<A, E, JobIngress>) => Promise<A>

export interface FlowActionOptions {
  /** The app's client secret, and the previous one during a rotation. */
  readonly secrets: ReadonlyArray<string>
}

export const mountFlowActionRoute = (app: Hono, run: RunJobIngress, options: FlowActionOptions) => {
  app.post("/webhooks/flow-action", async (c) => {
    const contentType = c.req.header("content-type") ?? ""
    if (!contentType.toLowerCase().includes("application/json")) return problem(c, Problems.unsupportedMediaType())
    const raw = await readRawBody(c.req.raw, FLOW_BODY_LIMIT)
    if (raw === "too_large") return problem(c, Problems.tooLarge(FLOW_BODY_LIMIT))
    if (!verifyHmac(raw, c.req.header("x-shopify-hmac-sha256"), options.secrets)) return problem(c, Problems.unauthorized())
    let body: unknown
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw))
    } catch {
      return problem(c, Problems.malformedJson())
    }
    const validated = validateFlowActionInput(body)
    if (validated._tag === "Failure") return problem(c, Problems.invalid(validated.failure))
    const input = validated.success
    const isFlow = input.actionRunId !== null
    const shop = (input.shopDomain ?? c.req.header("x-shopify-shop-domain") ?? "").toLowerCase()
    if (!isShopDomain(shop)) {
      return problem(c, Problems.invalid([{ field: isFlow ? "shopify_domain" : "X-Shopify-Shop-Domain", code: "invalid_format", message: "must be a *.myshopify.com domain" }]))
    }
    try {
      const outcome = await run(JobIngress.use((ingress) => ingress.request(shop, input, isFlow ? "flow" : "api")))
      if (outcome._tag === "Duplicate") {
        return c.json({ error: { code: "duplicate_job", message: "an identical job already exists" }, job_id: outcome.jobId }, 409)
      }
      return c.json(
        { job_id: outcome.jobId, status: "PENDING", message: outcome._tag === "Created" ? "Job enqueued successfully" : "Job already enqueued" },
        isFlow ? 200 : 202
      )
    } catch (error) {
      return problem(c, Problems.unavailable("the shop log"))
    }
  })
}
