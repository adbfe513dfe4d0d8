/**
 * Every admin API route, declared once: method, path, the permission it requires and what its
 * path parameters name. `mountAdminRoute` (`AdminAuth.ts`) refuses a route that is not in
 * {@link ADMIN_ROUTES}, and mounts each one behind authentication, the per-shop rate limit and
 * its permission, so no admin route exists without them. The RBAC and tenancy tests enumerate
 * this list: a new route is covered by them as soon as it is declared here.
 *
 * To add a route: declare it in {@link AdminRoutes}, then in its module
 * `mountAdminRoute(app, guard, AdminRoutes.myRoute, (c) => …)`.
 */
import type { Permission } from "../../domain/access/Permissions.ts"

export interface AdminRoute {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  /** A Hono path under `/app/`, `:name` for parameters. */
  readonly path: `/app/${string}`
  readonly permission: Permission
  /** One line for the docs. */
  readonly summary: string
  /**
   * What each path parameter identifies (`job`, `member`, `api_key`, …). The tenancy test
   * substitutes another shop's id of that kind and expects a 404.
   */
  readonly params: Readonly<Record<string, string>>
  /**
   * The route creates the resource when the shop has none with this id (a `PUT` upsert), so
   * an id that only another shop uses is not a 404: it names a new resource of the caller's
   * own shop.
   */
  readonly upsert?: true
  /**
   * Path parameters that name an entry of a global catalog (a trigger event, an action key),
   * not a resource of a shop: the tenancy test fills them with a valid name, and the route acts
   * on the caller's own shop.
   */
  readonly catalogParams?: Readonly<Record<string, string>>
  /** Answers 202 Accepted: the request is durable in the shop's log, its actor does the work. */
  readonly accepted?: true
  /** A `POST` that records nothing (a check, a computation): answers 200, not 201. */
  readonly computes?: true
}

export const AdminRoutes = {
  me: {
    method: "GET",
    path: "/app/me",
    permission: "shop:read",
    summary: "The caller: shop, its plan and time zone, principal kind, role and permissions",
    params: {}
  },
  listJobs: {
    method: "GET",
    path: "/app/jobs",
    permission: "jobs:read",
    summary: "The shop's jobs, newest first (`page`, `limit`, `status`)",
    params: {}
  },
  createJob: {
    method: "POST",
    path: "/app/jobs",
    permission: "jobs:create",
    summary: "Start a bulk metafield job from the admin: the Flow action's fields (`query_string`, `namespace`, `key`, `type`, `value`, `dry_run`, `max_items`); 202 `{ job_id }`, 409 with the existing `job_id` for an identical job, 400 listing every problem",
    params: {},
    accepted: true
  },
  getJob: {
    method: "GET",
    path: "/app/jobs/:id",
    permission: "jobs:read",
    summary: "One job and its timeline",
    params: { id: "job" }
  },
  jobErrors: {
    method: "GET",
    path: "/app/jobs/:id/errors.jsonl",
    permission: "jobs:read",
    summary: "Every failed result line of the job (JSON lines)",
    params: { id: "job" }
  },
  jobUndoPreview: {
    method: "GET",
    path: "/app/jobs/:id/undo-preview",
    permission: "jobs:read",
    summary: "What undoing the job would restore: how many products get their previous value back, how many lose the metafield (none before), and the first few",
    params: { id: "job" }
  },
  undoJob: {
    method: "POST",
    path: "/app/jobs/:id/undo",
    permission: "jobs:undo",
    summary: "Undo a completed job (202; a compensating job restores the previous values; products changed since are kept and reported `changed_since` unless `{ \"force\": true }`)",
    params: { id: "job" },
    accepted: true
  },
  listMembers: {
    method: "GET",
    path: "/app/members",
    permission: "members:read",
    summary: "The shop's members with their roles, and the default role",
    params: {}
  },
  setMember: {
    method: "PUT",
    path: "/app/members/:userId",
    permission: "members:manage",
    summary: "Give a Shopify staff member a role: `{ \"role\": \"operator\" }`",
    params: { userId: "member" },
    upsert: true
  },
  removeMember: {
    method: "DELETE",
    path: "/app/members/:userId",
    permission: "members:manage",
    summary: "Remove a member (they fall back to the default role)",
    params: { userId: "member" }
  },
  listApiKeys: {
    method: "GET",
    path: "/app/api-keys",
    permission: "api_keys:read",
    summary: "The shop's API keys, revoked ones included (never the secret)",
    params: {}
  },
  createApiKey: {
    method: "POST",
    path: "/app/api-keys",
    permission: "api_keys:manage",
    summary: "Create a key: `{ \"name\", \"scopes\": [], \"role\"? }`; 201 with the key, shown once",
    params: {}
  },
  listExports: {
    method: "GET",
    path: "/app/privacy/exports",
    permission: "privacy:read",
    summary: "Customer data exports made for Shopify's customers/data_request, newest first (no data)",
    params: {}
  },
  getExport: {
    method: "GET",
    path: "/app/privacy/exports/:id",
    permission: "privacy:read",
    summary: "One customer data export, opened, as a JSON download (404 once the customer is redacted)",
    params: { id: "privacy_export" }
  },
  revokeApiKey: {
    method: "DELETE",
    path: "/app/api-keys/:keyId",
    permission: "api_keys:manage",
    summary: "Revoke a key; it stops working at once",
    params: { keyId: "api_key" }
  },
  listTriggers: {
    method: "GET",
    path: "/app/triggers",
    permission: "automation:read",
    summary: "The trigger catalog: each event with what it means and its payload's JSON Schema",
    params: {}
  },
  validateRule: {
    method: "POST",
    path: "/app/rules/validate",
    permission: "automation:read",
    summary: "Check a rule without saving it (the editor, as you type): `{ \"valid\", \"errors\": [{ field, message }] }`, the same problems `POST /app/rules` would list (a CEL error at its position)",
    params: {},
    computes: true
  },
  listRules: {
    method: "GET",
    path: "/app/rules",
    permission: "automation:read",
    summary: "The shop's automation rules, oldest first, deleted ones left out (`page`, `limit`)",
    params: {}
  },
  createRule: {
    method: "POST",
    path: "/app/rules",
    permission: "automation:manage",
    summary: "Create a rule (201 `{ rule }` at version 1; 400 lists every problem with its field)",
    params: {}
  },
  getRule: {
    method: "GET",
    path: "/app/rules/:id",
    permission: "automation:read",
    summary: "One rule at its current version",
    params: { id: "rule" }
  },
  updateRule: {
    method: "PATCH",
    path: "/app/rules/:id",
    permission: "automation:manage",
    summary: "Change a rule: the fields given (a new version; 409 `changed` if it changed meanwhile)",
    params: { id: "rule" }
  },
  backtestRule: {
    method: "POST",
    path: "/app/rules/:id/backtest",
    permission: "automation:read",
    summary: "Replay the shop's triggers of `{ \"from\", \"to\" }` through the rule: what would have fired, when, and every skip by reason (calls nothing)",
    params: { id: "rule" }
  },
  deleteRule: {
    method: "DELETE",
    path: "/app/rules/:id",
    permission: "automation:manage",
    summary: "Delete a rule (its history stays; executions keep naming its versions)",
    params: { id: "rule" }
  },
  listExecutions: {
    method: "GET",
    path: "/app/executions",
    permission: "automation:read",
    summary: "What the rules did, newest first, each with its status and reason (`rule_id`, `status`, `page`, `limit`)",
    params: {}
  },
  getExecution: {
    method: "GET",
    path: "/app/executions/:id",
    permission: "automation:read",
    summary: "One execution: rule and version, trigger, resource, status and why",
    params: { id: "execution" }
  },
  whyExecution: {
    method: "GET",
    path: "/app/executions/:id/why",
    permission: "automation:read",
    summary: "★ Why did this happen: the causation chain, oldest first (origin → data event → trigger → rule version → every step)",
    params: { id: "execution" }
  },
  undoExecution: {
    method: "POST",
    path: "/app/executions/:id/undo",
    permission: "automation:manage",
    summary: "Undo an applied execution, optionally `{ \"force\": true }`: `{ \"status\": \"undone\" }`, or 409 `changed_since` when the resource changed after the action (force overwrites); one still deferred by quiet hours is cancelled (`{ \"status\": \"cancelled\" }`)",
    params: { id: "execution" }
  },
  listApprovals: {
    method: "GET",
    path: "/app/approvals",
    permission: "automation:read",
    summary: "Executions waiting for a person's approval, newest first (`rule_id`, `page`, `limit`)",
    params: {}
  },
  approveExecution: {
    method: "POST",
    path: "/app/approvals/:id/approve",
    permission: "automation:manage",
    summary: "Approve a parked execution: it runs (`{ \"status\": \"approved\" }`; 409 if it is not waiting any more)",
    params: { id: "approval" }
  },
  rejectExecution: {
    method: "POST",
    path: "/app/approvals/:id/reject",
    permission: "automation:manage",
    summary: "Reject a parked execution, optionally `{ \"reason\" }`: it never runs",
    params: { id: "approval" }
  },
  createWebhookSubscription: {
    method: "POST",
    path: "/app/webhook-subscriptions",
    permission: "webhooks:manage",
    summary: "Subscribe a URL to events (`{ \"url\", \"events\" }`): 201 with the subscription and its Standard Webhooks secret, shown once; internal addresses refused (400)",
    params: {}
  },
  listWebhookSubscriptions: {
    method: "GET",
    path: "/app/webhook-subscriptions",
    permission: "webhooks:read",
    summary: "The shop's outbound webhook subscriptions (never their secrets)",
    params: {}
  },
  rotateWebhookSecret: {
    method: "POST",
    path: "/app/webhook-subscriptions/:id/rotate",
    permission: "webhooks:manage",
    summary: "A new secret, shown once; the previous one still signs for 24 hours",
    params: { id: "webhook_subscription" }
  },
  deleteWebhookSubscription: {
    method: "DELETE",
    path: "/app/webhook-subscriptions/:id",
    permission: "webhooks:manage",
    summary: "Delete a subscription (its secret is destroyed): 204",
    params: { id: "webhook_subscription" }
  },
  listWebhookDeliveries: {
    method: "GET",
    path: "/app/webhook-deliveries",
    permission: "webhooks:read",
    summary: "Outbound deliveries, newest first: `?status=pending|delivered|dead&page&limit`",
    params: {}
  },
  redriveWebhookDelivery: {
    method: "POST",
    path: "/app/webhook-deliveries/:id/redrive",
    permission: "webhooks:manage",
    summary: "Send a dead-lettered delivery again (a new round of attempts, the same webhook-id): 202",
    params: { id: "webhook_delivery" },
    accepted: true
  },
  listAudit: {
    method: "GET",
    path: "/app/audit",
    permission: "audit:read",
    summary: "The audit log in plain language, newest first (`from`, `to` ISO instants, `q` text, `page`, `limit`)",
    params: {}
  },
  listActions: {
    method: "GET",
    path: "/app/actions",
    permission: "automation:read",
    summary: "The action registry: each action's key, triggers, resource types, required plan and params (the seed's meta)",
    params: {}
  },
  emitTrigger: {
    method: "POST",
    path: "/app/triggers/:event/emit",
    permission: "automation:emit",
    summary: "Emit a trigger by hand (202): `{ \"resources\": [{ \"resourceType\", \"resourceId\", \"payload\" }], …fields }`",
    params: {},
    catalogParams: { event: "trigger_event" },
    accepted: true
  },
  getAttribution: {
    method: "GET",
    path: "/app/attribution",
    permission: "insights:read",
    summary: "The seven attribution models side by side per channel, and the five per-journey models per channel day by day (`from`, `to` UTC dates, both included; the last 30 days by default)",
    params: {}
  },
  getOrderAttribution: {
    method: "GET",
    path: "/app/attribution/orders/:id",
    permission: "insights:read",
    summary: "One order's journey (its touches by channel) and its credit under each of the seven models",
    params: { id: "order" }
  },
  getCohorts: {
    method: "GET",
    path: "/app/cohorts",
    permission: "insights:read",
    summary: "Monthly cohorts by first order: customer and revenue retention per month offset (`months`, default 12)",
    params: {}
  },
  listRecommendations: {
    method: "GET",
    path: "/app/recommendations",
    permission: "insights:read",
    summary: "The next best actions: rules worth enabling for what the detectors found in the last 30 days, ranked by what is at stake, each with its evidence and a 30-day backtest",
    params: {}
  },
  acceptRecommendation: {
    method: "POST",
    path: "/app/recommendations/:id/accept",
    permission: "automation:manage",
    summary: "Creates the recommended rule, disabled, for review (`{ \"params\": {…} }` adds or overrides its params, e.g. the recipients it needs)",
    params: {},
    catalogParams: { id: "recommendation" }
  },
  listSeoPages: {
    method: "GET",
    path: "/app/seo/pages",
    permission: "insights:read",
    summary: "The shop's pages as the latest Search Console pull measured them: clicks over the last 14 days against the 14 before, decaying first (`decayed`, `page`, `limit`)",
    params: {}
  },
  listAdsAnomalies: {
    method: "GET",
    path: "/app/ads/anomalies",
    permission: "insights:read",
    summary: "The ads detectors' findings, newest first: spend anomalies and keywords far below or above the account's others (`page`, `limit`)",
    params: {}
  },
  getDetectorSettings: {
    method: "GET",
    path: "/app/settings/detectors",
    permission: "insights:read",
    summary: "The detectors' settings: what each uses now, the shop's overrides, the defaults and each field's allowed range",
    params: {}
  },
  updateDetectorSettings: {
    method: "PATCH",
    path: "/app/settings/detectors",
    permission: "insights:manage",
    summary: "Changes detector thresholds (`{\"seo\": {\"decayDropPct\": 20}}`; `null` returns a field to its default), all or nothing",
    params: {}
  },
  getAiUsage: {
    method: "GET",
    path: "/app/ai/usage",
    permission: "ai:read",
    summary: "AI calls of a period (`from`, `to` UTC dates; `page`, `limit`): totals, per model and purpose, the calls with their attempts, and the budget months (cap, spent, alerts)",
    params: {}
  },
  getLifetimeValue: {
    method: "GET",
    path: "/app/ltv",
    permission: "insights:read",
    summary: "Predicted 12-month customer value (BG/NBD × Gamma-Gamma fitted to the shop): parameters, total, distribution, per cohort, top customers",
    params: {}
  }
} as const satisfies Record<string, AdminRoute>

export const ADMIN_ROUTES: ReadonlyArray<AdminRoute> = Object.values(AdminRoutes)

/** The route table for the README: method, path, permission, summary. */
export const adminRouteTableMarkdown = (): string =>
  [
    "| method | path | permission | what |",
    "|---|---|---|---|",
    ...ADMIN_ROUTES.map((r) => `| ${r.method} | \`${r.path}\` | \`${r.permission}\` | ${r.summary} |`)
  ].join("\n")
