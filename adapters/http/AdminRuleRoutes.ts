/**
 * Automation rules over the admin API (issue 11 §2), snake_case JSON like the job API:
 * - `GET /app/rules`, `GET /app/rules/:id` (`automation:read`): read from the shop's
 *   `rules-<shop>` stream, so a rule just written is there;
 * - `POST /app/rules`, `PATCH /app/rules/:id`, `DELETE /app/rules/:id` (`automation:manage`):
 *   validated here against the trigger catalog, the action registry, the shop's plan and time
 *   zone and the CEL checker — every problem with its field in one 400 — then decided by the
 *   shop's actor (the single writer), whose outcome the request waits for: 201/200/204 with the
 *   rule at its new version, 409 when it changed meanwhile, 202 if the actor is slower than the
 *   bound (the change is queued and will apply).
 *
 * The shop's plan and time zone are its lifecycle's (`app_subscriptions/update` or an operator;
 * `shop/update`'s `iana_timezone`, UTC until then): `src/automation/ShopDefaults.ts`.
 */
import { Effect, Result } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import type { Context, Hono } from "hono"
import { changesNothing, type ExistingRule, type RuleCommand, type RuleContext, validateRule } from "../../domain/automation/Rules.ts"
import { conditionProblems } from "../../src/automation/Conditions.ts"
import { backtestRule } from "../../src/automation/Backtests.ts"
import { readRules, type RuleOutcome, submitRuleCommand } from "../../src/automation/RuleCommands.ts"
import { type Recommendation, recommendationsFor, suggestedRule, suggestionsFor } from "../../src/intelligence/Recommendations.ts"
import { catalogSuggestion } from "../../domain/intelligence/recommendations.ts"
import { shopAutomationContext } from "../../src/automation/ShopDefaults.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import type { ShopLog } from "../../src/shoplog/ShopLog.ts"
import {
  adminErrorResponse,
  type AdminGuard,
  Conflict,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  readJsonBody,
  readOptionalJson,
  requirePrincipal,
  ResourceNotFound,
  runAdminEffect,
  Unavailable
} from "./AdminAuth.ts"
import { DEFAULT_PAGE_SIZE, intParam, MAX_PAGE_SIZE } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import type { RunEffect } from "./RunEffect.ts"


/** How a shop's rules are validated: its plan and zone, and the CEL checker. */
const ruleContextOf = (shop: string) =>
  Effect.map(shopAutomationContext(shop), (context): RuleContext => ({
    ...context,
    checkCondition: conditionProblems
  }))

/** A rule as the API shows it. */
const ruleJson = (r: ExistingRule) => ({
  id: r.ruleId,
  version: r.version,
  name: r.name,
  trigger_event: r.triggerEvent,
  action_key: r.actionKey,
  params: r.params,
  condition: r.condition,
  cooldown_seconds: r.cooldownSeconds,
  quiet_hours: r.quietHours,
  requires_approval: r.requiresApproval,
  enabled: r.enabled
})

const recommendationJson = (r: Recommendation) => ({
  id: r.id,
  rule: { name: r.ruleName, trigger_event: r.triggerEvent, action_key: r.actionKey, params: r.params, needs: r.needs },
  impact: r.impact,
  explanation: r.explanation,
  evidence: r.evidence,
  backtest: r.backtest
})

const MAX_ID = 100
const MAX_BACKTEST_DAYS = 366

/** `{ "from", "to" }`: two instants, from before to, at most a year apart; every problem listed. */
const backtestWindow = (body: unknown) =>
  Effect.gen(function*() {
    const errors: Array<{ field: string; message: string }> = []
    const b = typeof body === "object" && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {}
    const instant = (field: "from" | "to") => {
      const v = b[field]
      const t = typeof v === "string" ? Date.parse(v) : Number.NaN
      if (Number.isNaN(t)) errors.push({ field, message: "must be an ISO 8601 instant such as 2026-11-01T00:00:00Z" })
      return t
    }
    const from = instant("from")
    const to = instant("to")
    if (errors.length === 0 && from >= to) errors.push({ field: "to", message: "must be after from" })
    if (errors.length === 0 && to - from > MAX_BACKTEST_DAYS * 86_400_000) errors.push({ field: "to", message: `the window is at most ${MAX_BACKTEST_DAYS} days` })
    if (errors.length > 0) return yield* new InvalidRequestBody({ message: "the backtest window is not valid", errors })
    return { from: new Date(from), to: new Date(to) }
  })

type Services = EventStore | ShopLog | LogWakeups

export const mountAdminRuleRoutes = (app: Hono, run: RunEffect<Services>, guard: AdminGuard) => {
  /** The shop's live rule `id`, or 404. */
  const current = (shop: string, id: string) =>
    Effect.gen(function*() {
      const { rules } = yield* readRules(shop)
      const rule = rules[id]
      if (rule === undefined || rule.deleted || id.length > MAX_ID) return yield* new ResourceNotFound({ resource: "rule", id: id.slice(0, MAX_ID) })
      return rule
    })

  const validated = (shop: string, body: unknown, base?: ExistingRule) =>
    Effect.gen(function*() {
      const checked = validateRule(body, yield* ruleContextOf(shop), base)
      if (Result.isFailure(checked)) {
        return yield* new InvalidRequestBody({ message: "the rule is not valid", errors: checked.failure })
      }
      return checked.success
    })

  /** The actor's outcome as the API's answer. */
  const settle = (outcome: RuleOutcome) =>
    Effect.gen(function*() {
      switch (outcome._tag) {
        case "Applied":
          return { rule: ruleJson(outcome.rule), pending: false }
        case "Pending":
          return { rule: null, pending: true }
        case "Rejected":
          if (outcome.code === "not_found") return yield* new ResourceNotFound({ resource: "rule", id: "" })
          return yield* new Conflict({ code: outcome.code, message: outcome.reason })
      }
    })

  const submit = (c: Context, command: RuleCommand, applied: (r: ExistingRule | undefined) => boolean) =>
    submitRuleCommand(requirePrincipal(c).shop, command, principalLabel(requirePrincipal(c)), applied).pipe(
      Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" }))),
      Effect.flatMap(settle)
    )

  // the editor's check as you type: the create route's validation, nothing recorded
  mountAdminRoute(app, guard, AdminRoutes.validateRule, (c) =>
    runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const body = yield* readJsonBody(c)
        return validateRule(body, yield* ruleContextOf(requirePrincipal(c).shop))
      }),
      (checked) => c.json(Result.isSuccess(checked) ? { valid: true, errors: [] } : { valid: false, errors: checked.failure })
    ))

  mountAdminRoute(app, guard, AdminRoutes.listRules, (c) => {
    const q = c.req.queries()
    const paging = Result.all({ page: intParam(q["page"], "page", 1, 999_999_999), limit: intParam(q["limit"], "limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) })
    if (Result.isFailure(paging)) return adminErrorResponse(c, paging.failure)
    const { page, limit } = paging.success
    return runAdminEffect(run, c, readRules(requirePrincipal(c).shop), ({ rules }) => {
      // rule ids are UUIDv7: their order is the order they were created in
      const live = Object.values(rules).filter((r) => !r.deleted).sort((a, b) => a.ruleId.localeCompare(b.ruleId))
      return c.json({
        rules: live.slice((page - 1) * limit, page * limit).map(ruleJson),
        total: live.length,
        page,
        pages: Math.max(1, Math.ceil(live.length / limit))
      })
    })
  })

  mountAdminRoute(app, guard, AdminRoutes.getRule, (c) =>
    runAdminEffect(run, c, current(requirePrincipal(c).shop, c.req.param("id") ?? ""), (rule) => c.json({ rule: ruleJson(rule) })))

  mountAdminRoute(app, guard, AdminRoutes.createRule, (c) => {
    const ruleId = uuidV7Unsafe()
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const spec = yield* validated(requirePrincipal(c).shop, yield* readJsonBody(c))
        return yield* submit(c, { type: "CreateRule", ruleId, spec }, (r) => r !== undefined)
      }),
      (out) => (out.pending ? c.json({ rule: { id: ruleId }, status: "pending" }, 202) : c.json({ rule: out.rule }, 201))
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.updateRule, (c) => {
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const base = yield* current(requirePrincipal(c).shop, id)
        const spec = yield* validated(requirePrincipal(c).shop, yield* readJsonBody(c), base)
        // the same settings: nothing to decide, no new version
        if (changesNothing(base, spec)) return { rule: ruleJson(base), pending: false }
        // applied when the rule shows these settings (another change in between is not ours)
        return yield* submit(c, { type: "UpdateRule", ruleId: id, spec, expectedVersion: base.version }, (r) => r !== undefined && changesNothing(r, spec))
      }),
      (out) => (out.pending ? c.json({ rule: { id }, status: "pending" }, 202) : c.json({ rule: out.rule }, 200))
    )
  })

  // the next best actions (issue 13 §5), and accepting one: its rule, created disabled for review
  mountAdminRoute(app, guard, AdminRoutes.listRecommendations, (c) =>
    runAdminEffect(run, c, recommendationsFor(requirePrincipal(c).shop, new Date()), (recs) => c.json({ recommendations: recs.map(recommendationJson) })))

  mountAdminRoute(app, guard, AdminRoutes.acceptRecommendation, (c) => {
    const ruleId = uuidV7Unsafe()
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const shop = requirePrincipal(c).shop
        // the shop's current suggestion, else the catalog's (accepted ahead of any finding)
        const rec = (yield* suggestionsFor(shop, new Date())).find((r) => r.id === id) ?? catalogSuggestion(id)
        if (rec === undefined) return yield* new ResourceNotFound({ resource: "recommendation", id: id.slice(0, MAX_ID) })
        const body = yield* readOptionalJson(c)
        const extra = body["params"] ?? {}
        if (typeof extra !== "object" || extra === null || Array.isArray(extra)) return yield* new InvalidRequestBody({ message: "params must be an object" })
        const draft = suggestedRule(rec, { ...rec.params, ...extra })
        const spec = yield* validated(shop, {
          name: draft.name, trigger_event: draft.triggerEvent, action_key: draft.actionKey, params: draft.params, enabled: false
        })
        return yield* submit(c, { type: "CreateRule", ruleId, spec }, (r) => r !== undefined)
      }),
      (out) => (out.pending ? c.json({ rule: { id: ruleId }, status: "pending" }, 202) : c.json({ rule: out.rule }, 201))
    )
  })

  // ★ what the rule would have done over a window of the shop's recorded triggers
  mountAdminRoute(app, guard, AdminRoutes.backtestRule, (c) => {
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const rule = yield* current(requirePrincipal(c).shop, id)
        const window = yield* backtestWindow(yield* readJsonBody(c))
        return yield* backtestRule(requirePrincipal(c).shop, rule, window)
      }),
      (result) =>
        c.json({
          rule_id: id,
          fires: result.fires.map((f) => ({ resource_id: f.resourceId, resource_type: f.resourceType, at: new Date(f.at).toISOString(), trigger_id: f.triggerId, kind: f.kind })),
          skipped: result.skipped,
          events_scanned: result.eventsScanned
        })
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.deleteRule, (c) => {
    const id = c.req.param("id") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        yield* current(requirePrincipal(c).shop, id)
        return yield* submit(c, { type: "DeleteRule", ruleId: id }, (r) => r?.deleted === true)
      }),
      (out) => (out.pending ? c.json({ rule: { id }, status: "pending" }, 202) : c.body(null, 204))
    )
  })
}
