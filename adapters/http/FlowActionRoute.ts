/**
 * `POST /webhooks/flow-action` — the Flowmend Flow action (seed 002). The body goes through the
 * ingress preamble (`IngressPreamble.ts`): over 64 KB 413 (declared or streamed); not
 * `application/json` 415 — parameters such as `; charset=utf-8` are fine, but a type that only
 * mentions JSON (`text/plain; application/json`, which this route used to let through) is not;
 * Shopify's HMAC of the raw bytes (`X-Shopify-Hmac-Sha256`, current or previous secret) else 401;
 * strict UTF-8 and JSON (integers beyond 2^53 kept exact) else 400. Then every field is validated (all errors at once, 400), the idempotency rules are
 * applied (`JobIngress`), and the answer goes out only after the job request is durably in the
 * shop's log (503 with `Retry-After` when the log or the database cannot be reached).
 *
 * Status codes: the seed's plain body gets 202 (accepted) / 409 (duplicate). Shopify Flow's
 * envelope gets 200, because Flow treats any other 2xx as "not processed" and re-sends; a
 * re-send of the same `action_run_id` gets 200 with the same job (never a second job, never
 * a 4xx that would fail the merchant's workflow step). The job can be read back at once
 * (`GET /app/jobs/:id`), even before the shop's actor has recorded it (`AdminJobRoutes.ts`).
 */
import { Effect, Result } from "effect"
import type { Context, Hono } from "hono"
import { validateFlowActionInput } from "../../domain/jobs/index.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import { JobIngress } from "../../src/jobs/JobIngress.ts"
import { InvalidInput } from "./HttpErrors.ts"
import { respond } from "./HttpProblem.ts"
import { APPLICATION_JSON, type IngressSpec, readJson } from "./IngressPreamble.ts"
import type { RunEffect } from "./RunEffect.ts"

export const FLOW_BODY_LIMIT = 64 * 1024

/** The 409 for a job identical to one already requested (Flow's route and the admin's): it names that job. */
export const duplicateJobAnswer = (c: Context, jobId: string) =>
  c.json({ error: { code: "duplicate_job", message: "an identical job already exists" }, job_id: jobId }, 409)

export interface FlowActionOptions {
  /** The app's client secret, and the previous one during a rotation. */
  readonly secrets: ReadonlyArray<string>
}

/** Mounts the route; `run` provides the job ingress. */
export const mountFlowActionRoute = (app: Hono, run: RunEffect<JobIngress>, options: FlowActionOptions) => {
  const ingress: IngressSpec = {
    mediaTypes: [APPLICATION_JSON],
    limit: FLOW_BODY_LIMIT,
    signature: { header: (headers) => headers.get("x-shopify-hmac-sha256") ?? undefined, secrets: options.secrets }
  }
  app.post("/webhooks/flow-action", (c) =>
    respond(
      run,
      c,
      Effect.gen(function*() {
        const body = yield* readJson(c.req.raw, ingress)
        const validated = validateFlowActionInput(body)
        if (Result.isFailure(validated)) return yield* new InvalidInput({ details: validated.failure })
        const input = validated.success
        const isFlow = input.actionRunId !== null
        const shop = (input.shopDomain ?? c.req.header("x-shopify-shop-domain") ?? "").toLowerCase()
        if (!isShopDomain(shop)) {
          return yield* new InvalidInput({
            details: [{ field: isFlow ? "shopify_domain" : "X-Shopify-Shop-Domain", code: "invalid_format", message: "must be a *.myshopify.com domain" }]
          })
        }
        const ingressOf = yield* JobIngress
        const outcome = yield* ingressOf.request(shop, input, isFlow ? "flow" : "api")
        if (outcome._tag === "Duplicate") {
          return duplicateJobAnswer(c, outcome.jobId)
        }
        return c.json(
          { job_id: outcome.jobId, status: "PENDING", message: outcome._tag === "Created" ? "Job enqueued successfully" : "Job already enqueued" },
          isFlow ? 200 : 202
        )
      })
    ))
}
