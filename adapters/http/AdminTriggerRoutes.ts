/**
 * The trigger catalog over the admin API (issue 11 §1):
 * - `GET /app/triggers` (`automation:read`): every trigger event of the decision plane, with
 *   what it means and the JSON Schema of its payload — what a rule author or a detector needs;
 * - `GET /app/actions` (`automation:read`): the action registry's metas (key, triggers,
 *   resource types, required plan, params with type, default, min and max);
 * - `POST /app/triggers/:event/emit` (`automation:emit`): emits a trigger by hand, so an
 *   operator can test the shop's rules; the body is the trigger's payload without `event`
 *   (`{ "resources": [...], …fields }`), validated against the catalog — every problem listed
 *   with its field in one 400 — and recorded with the caller as its emitter. 202 once durable in
 *   the shop's log.
 */
import { Effect, Result, Schema } from "effect"
import type { Hono } from "hono"
import { ACTION_METAS, triggersOf } from "../../domain/automation/Actions.ts"
import { isTriggerEventName, TRIGGER_CATALOG, TriggerEvent } from "../../domain/automation/Triggers.ts"
import { decodeAll } from "../../domain/ingest/Fields.ts"
import { newTrigger, publishTrigger } from "../../src/automation/TriggerHandlers.ts"
import type { ShopLog } from "../../src/shoplog/ShopLog.ts"
import {
  type AdminGuard,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  readJsonBody,
  requirePrincipal,
  ResourceNotFound,
  runAdminEffect,
  Unavailable
} from "./AdminAuth.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import type { RunEffect } from "./RunEffect.ts"

/** The catalog as served: computed once (the JSON Schemas do not change at run time). */
const catalogBody = () => ({
  triggers: TRIGGER_CATALOG.map((t) => ({
    event: t.event,
    domain: t.domain,
    description: t.description,
    payload_schema: Schema.toJsonSchemaDocument(t.schema)
  }))
})

const decodeTrigger = decodeAll(TriggerEvent)

export const mountAdminTriggerRoutes = (app: Hono, run: RunEffect<ShopLog>, guard: AdminGuard) => {
  let catalog: ReturnType<typeof catalogBody> | undefined

  mountAdminRoute(app, guard, AdminRoutes.listTriggers, (c) => c.json(catalog ??= catalogBody()))

  // the action registry's metas, in the seed's shape (snake_case like the rest of the API)
  mountAdminRoute(app, guard, AdminRoutes.listActions, (c) =>
    c.json({
      actions: ACTION_METAS.map((a) => ({
        key: a.key,
        description: a.description,
        trigger_events: triggersOf(a),
        resource_types: a.resourceType,
        required_plan: a.requiredPlan,
        param_schema: a.paramSchema
      }))
    }))

  mountAdminRoute(app, guard, AdminRoutes.emitTrigger, (c) => {
    const principal = requirePrincipal(c)
    const event = c.req.param("event") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        if (!isTriggerEventName(event)) return yield* new ResourceNotFound({ resource: "trigger event", id: event.slice(0, 100) })
        const body = yield* readJsonBody(c)
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
          return yield* new InvalidRequestBody({ message: "the body must be a JSON object: { \"resources\": [...], …the trigger's fields }" })
        }
        const decoded = decodeTrigger({ ...body, event })
        if (Result.isFailure(decoded)) {
          return yield* new InvalidRequestBody({
            message: `not a valid ${event} payload (GET /app/triggers has its schema)`,
            errors: decoded.failure.map((e) => ({ field: e.path, message: e.message }))
          })
        }
        const emitted = newTrigger(decoded.success, { kind: "operator", id: principalLabel(principal) })
        yield* publishTrigger(principal.shop, emitted).pipe(
          Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" })))
        )
        return emitted
      }),
      (emitted) => c.json({ trigger_id: emitted.triggerId, event: emitted.trigger.event, resources: emitted.trigger.resources.length }, 202)
    )
  })
}
