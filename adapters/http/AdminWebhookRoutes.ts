/**
 * Outbound webhooks over the admin API (issue 12 §1):
 * - `POST /app/webhook-subscriptions {url, events}` (`webhooks:manage`): 201 with the subscription
 *   and its secret, shown this once; a URL that is not http(s), carries credentials, or points at
 *   an internal address in any spelling is a 400 that says why (unless the operator allowed the
 *   exact target: `OUTBOUND_ALLOWED_TARGETS`); every problem listed with its field;
 * - `GET /app/webhook-subscriptions` (`webhooks:read`): never the secrets;
 * - `POST /app/webhook-subscriptions/:id/rotate`, `DELETE /app/webhook-subscriptions/:id`;
 * - `GET /app/webhook-deliveries?status&page&limit` (`webhooks:read`), from the read model;
 * - `POST /app/webhook-deliveries/:id/redrive` (`webhooks:manage`): 202 for a dead one, 409 else.
 * Changes go to the shop's actor (the single writer); the request waits, bounded, for them.
 */
import { Effect, Option, Result } from "effect"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import { OUTBOUND_EVENTS, type OutboundEvent } from "../../domain/outbound/Webhooks.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { OutboundHttp } from "../../src/outbound/OutboundHttp.ts"
import { readSubscriptions, submitRedrive, submitSubscriptionChange, subscriptionJson } from "../../src/outbound/SubscriptionCommands.ts"
import type { PiiVault } from "../../src/secrets/Secrets.ts"
import type { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { DELIVERY_STATUSES, deliveryJson, type DeliveryStatus, findDelivery, listDeliveries } from "../postgres/PgWebhookDeliveries.ts"
import {
  type AdminGuard,
  adminErrorResponse,
  Conflict,
  InvalidQueryParameter,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  readJsonBody,
  requirePrincipal,
  requireShop,
  ResourceNotFound,
  runAdminEffect,
  Unavailable
} from "./AdminAuth.ts"
import { DEFAULT_PAGE_SIZE, intParam, MAX_PAGE_SIZE, single } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import type { RunEffect } from "./RunEffect.ts"

type Services = SqlClient.SqlClient | EventStore | ShopLog | LogWakeups | PiiVault | OutboundHttp


/** A create body: every problem with its field, or the URL and events. */
const parseCreate = (body: unknown, checkUrl: (url: string) => string | undefined) => {
  const problems: Array<{ field: string; message: string }> = []
  const b = typeof body === "object" && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : undefined
  if (b === undefined) return Result.fail([{ field: "", message: "the body must be a JSON object { \"url\", \"events\" }" }])
  const url = b["url"]
  if (typeof url !== "string" || url.length === 0) problems.push({ field: "url", message: "is required (an https URL)" })
  else if (url.length > 2048) problems.push({ field: "url", message: "must be at most 2048 characters" })
  else {
    const refused = checkUrl(url)
    if (refused !== undefined) problems.push({ field: "url", message: refused })
  }
  const events = b["events"]
  if (!Array.isArray(events) || events.length === 0) problems.push({ field: "events", message: `must list one or more of ${OUTBOUND_EVENTS.join(", ")}` })
  else {
    events.forEach((e, i) => {
      if (typeof e !== "string" || !(OUTBOUND_EVENTS as ReadonlyArray<string>).includes(e)) {
        problems.push({ field: `events[${i}]`, message: `is not one of ${OUTBOUND_EVENTS.join(", ")}` })
      }
    })
  }
  for (const key of Object.keys(b)) if (key !== "url" && key !== "events") problems.push({ field: key, message: "is not a field of a subscription (url, events)" })
  return problems.length > 0
    ? Result.fail(problems)
    : Result.succeed({ url: url as string, events: [...new Set(events as ReadonlyArray<OutboundEvent>)] })
}

/** The shop's deliveries as the API shows them (`adapters/postgres/PgWebhookDeliveries.ts`). */
const deliveriesPage = (shop: string, q: { readonly status: DeliveryStatus | null; readonly page: number; readonly limit: number }) =>
  Effect.map(
    listDeliveries(shop, { status: q.status, limit: q.limit, offset: (q.page - 1) * q.limit }).pipe(
      Effect.catchTag("ReadModelNotBuilt", () => Effect.fail(new Unavailable({ what: "the webhook deliveries read model" })))
    ),
    ({ deliveries, total }) => ({
      deliveries: deliveries.map(deliveryJson),
      total,
      page: q.page,
      pages: Math.max(1, Math.ceil(total / q.limit))
    })
  )

/** A delivery's status, 404 when the shop has none with that id. */
const deliveryStatus = (shop: string, id: string) =>
  findDelivery(shop, id).pipe(
    Effect.catchTag("ReadModelNotBuilt", () => Effect.fail(new Unavailable({ what: "the webhook deliveries read model" }))),
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(new ResourceNotFound({ resource: "webhook delivery", id: id.slice(0, 100) })),
      onSome: (row) => Effect.succeed(row.status)
    }))
  )

/** A subscription change, its failures to reach the shop log or the secret store answered 503. */
const submitted = (...args: Parameters<typeof submitSubscriptionChange>) =>
  submitSubscriptionChange(...args).pipe(
    Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" }))),
    Effect.catchTag("SecretsUnavailable", () => Effect.fail(new Unavailable({ what: "the secret store" }))),
    Effect.catchTag("SubjectShredded", () => Effect.fail(new Unavailable({ what: "the secret store" })))
  )

export const mountAdminWebhookRoutes = (app: Hono, run: RunEffect<Services>, guard: AdminGuard) => {
  mountAdminRoute(app, guard, AdminRoutes.createWebhookSubscription, (c) => {
    const principal = requirePrincipal(c)
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const http = yield* OutboundHttp
        const parsed = parseCreate(yield* readJsonBody(c), http.checkUrl)
        if (Result.isFailure(parsed)) return yield* new InvalidRequestBody({ message: "the subscription is not valid", errors: parsed.failure })
        const outcome = yield* submitted(principal.shop, { type: "create", ...parsed.success }, principalLabel(principal))
        if (outcome._tag === "Pending") return { status: 202 as const, body: { subscription: { id: outcome.subscriptionId, status: "pending" }, secret: outcome.secret } }
        return { status: 201 as const, body: { subscription: subscriptionJson(outcome.subscription), secret: outcome.secret } }
      }),
      (out) => c.json(out.body, out.status)
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.listWebhookSubscriptions, (c) =>
    runAdminEffect(run, c, Effect.map(readSubscriptions(requireShop(c)), (subs) => ({
      subscriptions: Object.values(subs).filter((s) => s.status !== "deleted").map(subscriptionJson)
    })), (body) => c.json(body)))

  const existing = (shop: string, id: string) =>
    Effect.flatMap(readSubscriptions(shop), (subs) => {
      const s = subs[id]
      return s === undefined || s.status === "deleted" ? Effect.fail(new ResourceNotFound({ resource: "webhook subscription", id: id.slice(0, 100) })) : Effect.succeed(s)
    })

  mountAdminRoute(app, guard, AdminRoutes.rotateWebhookSecret, (c) => {
    const principal = requirePrincipal(c)
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        yield* existing(principal.shop, id)
        const outcome = yield* submitted(principal.shop, { type: "rotate", subscriptionId: id }, principalLabel(principal))
        return outcome._tag === "Pending"
          ? { status: 202 as const, body: { id, status: "pending", secret: outcome.secret } }
          : { status: 200 as const, body: { id, secret: outcome.secret, previous_secret_valid_until: outcome.subscription.previous?.until ?? null } }
      }),
      (out) => c.json(out.body, out.status)
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.deleteWebhookSubscription, (c) => {
    const principal = requirePrincipal(c)
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        yield* existing(principal.shop, id)
        return yield* submitted(principal.shop, { type: "delete", subscriptionId: id }, principalLabel(principal))
      }),
      (out) => (out._tag === "Pending" ? c.json({ id, status: "pending" }, 202) : c.body(null, 204))
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.listWebhookDeliveries, (c) => {
    const q = c.req.queries()
    const parsed = Result.gen(function*() {
      const page = yield* intParam(q["page"], "page", 1, 999_999_999)
      const limit = yield* intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
      const status = (yield* single(q["status"], "status")) ?? null
      if (status !== null && !(DELIVERY_STATUSES as ReadonlyArray<string>).includes(status)) {
        return yield* Result.fail(new InvalidQueryParameter({ parameter: "status", message: `status must be one of ${DELIVERY_STATUSES.join(", ")}` }))
      }
      return { page, limit, status: status as DeliveryStatus | null }
    })
    if (Result.isFailure(parsed)) return adminErrorResponse(c, parsed.failure)
    return runAdminEffect(run, c, deliveriesPage(requireShop(c), parsed.success), (body) => c.json(body))
  })

  mountAdminRoute(app, guard, AdminRoutes.redriveWebhookDelivery, (c) => {
    const principal = requirePrincipal(c)
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const status = yield* deliveryStatus(principal.shop, id)
        if (status !== "dead") return yield* new Conflict({ code: "not_dead", message: `only a dead-lettered delivery can be redriven (this one is ${status})` })
        yield* submitRedrive(principal.shop, id, principalLabel(principal)).pipe(
          Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" })))
        )
        return { id, status: "redriven" }
      }),
      (body) => c.json(body, 202)
    )
  })
}

