/**
 * Tenancy walk (invariant 6, issue 5 §5): shop A has real data (a completed, undoable job made
 * by the decider and projected, its failed lines, a member, an API key). Then EVERY route of
 * `ADMIN_ROUTES` is called with shop B's owner credentials (a session and an owner API key),
 * with shop A's ids in the path: each one answers 404 (or, without ids, B's own data), no answer
 * contains anything of A's, and not a single row of A's changed in any table. The route list is
 * the catalog, so a new admin route is walked as soon as it is declared; and every `/app/*`
 * route the Hono app serves must be in the catalog.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ShopLog } from "../../src/shoplog/ShopLog.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { JobParameters } from "../../domain/jobs/index.ts"
import { ADMIN_ROUTES, type AdminRoute, AdminRoutes } from "../../adapters/http/AdminRouteCatalog.ts"
import { type AdminApi, type AdminServer, sampleBody, sessionFor, startAdminApi, withCatalogParams } from "../support/adminApi.ts"
import { jobParams, requestJob } from "../support/jobCommands.ts"

const SHOP_A = "walk-alpha.myshopify.com"
const SHOP_B = "walk-beta.myshopify.com"
const JOB_A = "11111111-7c9e-4679-8425-40de944be07f"
const JOB_B = "22222222-7c9e-4679-8425-40de944be07f"
const MEMBER_A = "alpha-staff-42"
const ERROR_LINE_A = "{\"id\":\"gid://shopify/Product/4242\",\"error\":\"alpha-secret-error\"}"

/** Shop A's job parameters: strings the walk searches responses for. */
const params = (overrides: Partial<JobParameters>): JobParameters =>
  jobParams({
    queryString: "tag:alpha-secret-query",
    namespace: "alpha_secret_ns",
    key: "alpha_secret_key",
    value: "Alpha Secret Value",
    ...overrides
  })

const request = (jobId: string, shop: string, input: JobParameters) => requestJob(jobId, shop, input, "2025-12-27T10:30:00Z")

let api: AdminApi
let server: AdminServer
/** Shop A's ids by the resource kind a path parameter names. */
const idsOfA: Record<string, string> = { job: JOB_A, member: MEMBER_A }
/** Text that must never reach shop B. */
let secretsOfA: Array<string>
let keyOfA: string
let keyOfB: string
let keyNameOfA: string

/** Every row of `shop` in every table that has a `shop` column (as the owning role: no RLS). */
const rowsOf = (shop: string) =>
  api.run(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ table_name: string }>`
      SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = 'public' AND c.column_name = 'shop' AND t.table_type = 'BASE TABLE'
       ORDER BY c.table_name`
    const dump: Record<string, unknown> = {}
    for (const { table_name } of tables) {
      const rows = yield* sql<{ rows: unknown }>`
        SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), '[]'::jsonb) AS rows
          FROM ${sql(table_name)} x WHERE x.shop = ${shop}`
      dump[table_name] = rows[0]!.rows
    }
    return dump
  }))

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP_A, SHOP_B], automationActors: true })
  // production defaults: unlisted staff are owners
  server = await api.serveAdmin()
  // shop A: a completed live job (undoable), with a failed line
  await api.handleJobCommands(SHOP_A, [
    request(JOB_A, SHOP_A, params({})),
    { type: "StartJob", jobId: JOB_A, at: "2025-12-27T10:30:05Z" },
    { type: "RecordBulkQueryStarted", jobId: JOB_A, bulkOperationId: "gid://shopify/BulkOperation/4201", at: "2025-12-27T10:30:06Z" },
    {
      type: "RecordQueryCompleted",
      jobId: JOB_A,
      bulkOperationId: "gid://shopify/BulkOperation/4201",
      matchedCount: 12,
      truncated: false,
      snapshotRef: "snapshots/alpha.jsonl",
      at: "2025-12-27T10:31:00Z"
    },
    { type: "RecordChunkUploaded", jobId: JOB_A, chunkIndex: 0, stagedUploadPath: "tmp/bulk/alpha", lines: 12, bytes: 4096, at: "2025-12-27T10:32:00Z" },
    { type: "RecordBulkMutationStarted", jobId: JOB_A, chunkIndex: 0, bulkOperationId: "gid://shopify/BulkOperation/4202", at: "2025-12-27T10:32:01Z" },
    {
      type: "RecordMutationCompleted",
      jobId: JOB_A,
      chunkIndex: 0,
      bulkOperationId: "gid://shopify/BulkOperation/4202",
      updatedCount: 11,
      failedCount: 1,
      errorLines: [ERROR_LINE_A],
      at: "2025-12-27T10:35:00Z"
    },
    { type: "CompleteJob", jobId: JOB_A, at: "2025-12-27T10:35:00Z" }
  ])
  await api.run(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      INSERT INTO job_error_lines (job_id, shop, chunk_index, line_number, line)
      VALUES (${JOB_A}, ${SHOP_A}, 0, 0, ${ERROR_LINE_A})`
  }))
  // shop B has data of its own, so that its lists are not trivially empty
  await api.handleJobCommands(SHOP_B, [request(JOB_B, SHOP_B, params({ queryString: "tag:beta", namespace: "beta_ns", key: "beta_key", value: "Beta" }))])
  await api.awaitProjections()
  await api.setMember(SHOP_A, MEMBER_A, "analyst")
  await api.setMember(SHOP_A, "alpha-owner", "owner")
  await api.setMember(SHOP_B, "beta-owner", "owner")
  keyNameOfA = "alpha secret key name"
  const keyA = await api.createKey(SHOP_A, keyNameOfA, ["events:write"], "operator")
  idsOfA["api_key"] = keyA.keyId
  keyOfA = keyA.key
  keyOfB = (await api.createKey(SHOP_B, "beta owner key", [], "owner")).key
  const exportOfA = await api.createExport(SHOP_A, "alpha-secret-customer")
  idsOfA["privacy_export"] = exportOfA.exportId
  const ruleOfA = await api.call(server, "POST", "/app/rules", sessionFor(SHOP_A, "alpha-owner"), {
    name: "alpha secret rule", trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["alpha-secret-tag"] }, enabled: true, requires_approval: true
  })
  if (ruleOfA.status !== 201) throw new Error(`shop A's rule: ${ruleOfA.status} ${ruleOfA.text}`)
  idsOfA["rule"] = ruleOfA.json.rule.id
  // an execution of A's rule: a trigger emitted for A, dispatched by A's actor, projected
  const emitted = await api.call(server, "POST", "/app/triggers/product.drafted/emit", sessionFor(SHOP_A, "alpha-owner"), {
    resources: [{ resourceType: "product", resourceId: "gid://shopify/Product/4242", payload: { title: "Alpha secret product", vendor: null, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" } }]
  })
  idsOfA["execution"] = `${emitted.json.trigger_id}_${idsOfA["rule"]}_0`
  await api.awaitExecution(SHOP_A, idsOfA["execution"])
  idsOfA["approval"] = idsOfA["execution"] // A's rule asks for approval: the execution waits
  // A's outbound webhook subscription, and a dead-lettered delivery of A's as A's actor records one
  const subOfA = await api.call(server, "POST", "/app/webhook-subscriptions", sessionFor(SHOP_A, "alpha-owner"), {
    url: "https://alpha-secret-hooks.example.com/in", events: ["autoaction.applied"]
  })
  if (subOfA.status !== 201) throw new Error(`shop A's webhook subscription: ${subOfA.status} ${subOfA.text}`)
  idsOfA["webhook_subscription"] = subOfA.json.subscription.id
  const deliveryOfA = "0d1e2a3b-4c5d-5e6f-8a9b-0c1d2e3f4a5b"
  const base = { deliveryId: deliveryOfA, subscriptionId: idsOfA["webhook_subscription"] }
  await api.run(Effect.flatMap(EventStore, (store) =>
    store.append(`webhook-delivery-${SHOP_A}-${deliveryOfA}`, SHOP_A, "no_stream", [
      {
        type: "webhook.delivery_requested",
        data: {
          type: "webhook.delivery_requested", ...base, event: "autoaction.applied",
          payload: {
            event: "autoaction.applied", eventId: "alpha-secret-event", shop: SHOP_A, ruleId: idsOfA["rule"], ruleName: "alpha secret rule", actionKey: "tag_product",
            resourceType: "product", resourceId: "gid://shopify/Product/4242", after: { added: ["alpha-secret-tag"] }, occurredAt: "2026-12-01T10:00:00Z"
          }
        }
      },
      { type: "webhook.dead_lettered", data: { type: "webhook.dead_lettered", ...base, attempts: 4, lastError: "HTTP 500: alpha-secret-error" } }
    ], { correlationId: "tenancy", actor: { kind: "system", id: "test" } })))
  idsOfA["webhook_delivery"] = deliveryOfA
  // an attributed order of A's (its Shopify webhook through A's actor, projected)
  await api.run(ShopLog.use((l) => l.publish({
    shop: SHOP_A, messageId: "alpha-order", correlationId: "alpha-order",
    ...encodeShopMessage({
      type: "shopify.webhook",
      payload: { topic: "orders/create", payload: { id: 4242001, total_price: "12.00", currency: "EUR", updated_at: "2026-12-01T10:00:00Z", landing_site: "/?utm_source=alpha-secret-source" } }
    })
  })))
  await api.awaitEvents([`order-${SHOP_A}-4242001`], (events) => events.length === 1)
  idsOfA["order"] = "4242001"
  await api.awaitProjections()
  await api.createExport(SHOP_B, "beta-customer")
  secretsOfA = ["alpha-secret-source", subOfA.json.secret, "alpha-secret-hooks", "alpha-secret-event", SHOP_A, JOB_A, MEMBER_A, "alpha-owner", keyA.keyId, keyA.key, keyNameOfA, "alpha-secret-query", "alpha_secret_ns", "Alpha Secret Value", "alpha-secret-error", "alpha-secret-customer", exportOfA.exportId, "alpha secret rule", "alpha-secret-tag", "Alpha secret product"]
})

afterAll(async () => {
  await api?.close()
})

const routeName = (r: AdminRoute) => `${r.method} ${r.path}`

/** `route.path` with shop A's ids; also returns the ids used (a 404 may echo them). */
const pathWithIdsOfA = (route: AdminRoute): { readonly path: string; readonly used: ReadonlyArray<string> } => {
  const used: Array<string> = []
  const path = withCatalogParams(route).replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const kind = route.params[name]
    const id = kind === undefined ? undefined : idsOfA[kind]
    if (id === undefined) throw new Error(`${routeName(route)}: no id of shop A for parameter ${name} (${kind}); create one in beforeAll`)
    used.push(id)
    return encodeURIComponent(id)
  })
  return { path, used }
}

describe("tenancy walk: every admin route, shop B's owner credentials, shop A's ids", () => {
  it("shop A's data is real and visible to shop A (so the 404s below mean something)", async () => {
    const owner = sessionFor(SHOP_A, "alpha-owner")
    const job = await api.call(server, "GET", `/app/jobs/${JOB_A}`, owner)
    expect([job.status, job.json.job.status]).toEqual([200, "COMPLETED"])
    expect((await api.call(server, "GET", `/app/jobs/${JOB_A}/errors.jsonl`, owner)).text).toBe(`${ERROR_LINE_A}\n`)
    expect((await api.call(server, "GET", "/app/members", owner)).text).toContain(MEMBER_A)
    expect((await api.call(server, "GET", "/app/api-keys", owner)).text).toContain(idsOfA["api_key"])
    for (const route of ADMIN_ROUTES) {
      for (const kind of Object.values(route.params)) expect(idsOfA[kind], `${routeName(route)}: ${kind}`).toBeDefined()
    }
  })

  it("404 for every id of shop A, only B's own data in lists, and nothing of A changed anywhere", async () => {
    const before = await rowsOf(SHOP_A)
    // the snapshot covers A's data: events, its job's lines, its member, its key
    for (const table of ["events", "job_error_lines", "shop_members", "api_keys"]) {
      expect((before[table] as ReadonlyArray<unknown>).length, table).toBeGreaterThan(0)
    }
    const credentials = [["session", sessionFor(SHOP_B, "beta-owner")], ["api key", keyOfB]] as const
    // upserts last: a PUT legitimately creates B's own member under that id, which a later
    // DELETE would then find, and a later list would show
    const phases = [ADMIN_ROUTES.filter((r) => r.upsert !== true), ADMIN_ROUTES.filter((r) => r.upsert === true)]
    let walked = 0
    /** The jobs B started on the way (`POST /app/jobs`): B's own, listed with B's. */
    const jobsStartedByB: Array<string> = []
    for (const routes of phases) {
      for (const [kind, credential] of credentials) {
        // a full rate-limit bucket for each walk: the catalog has more routes than a minute's 100 requests
        api.clock.now += 60_000
        for (const route of routes) {
          const { path, used } = pathWithIdsOfA(route)
          const res = await api.call(server, route.method, path, credential, sampleBody(route, `walk-${kind}`))
          const where = `${kind}: ${route.method} ${path} → ${res.status} ${res.text.slice(0, 300)}`
          if (used.length > 0 && route.upsert !== true) {
            expect(res.status, where).toBe(404)
            expect(res.json.error.code, where).toBe("NOT_FOUND")
          } else {
            expect([200, 201, 202], where).toContain(res.status)
          }
          if (route === AdminRoutes.createJob) jobsStartedByB.push(res.json.job_id)
          let visible = res.text
          for (const id of used) visible = visible.replaceAll(id, "<id from the path>")
          for (const secret of secretsOfA) expect(visible, `${where}: leaks ${secret}`).not.toContain(secret)
          walked++
        }
      }
    }
    expect(walked).toBe(ADMIN_ROUTES.length * 2)
    api.clock.now += 60_000
    // B saw its own things (the lists were not empty for lack of data)
    const jobsOfB = await api.call(server, "GET", "/app/jobs", keyOfB)
    expect(jobsOfB.status, jobsOfB.text).toBe(200)
    expect(jobsOfB.json.jobs.map((j: { id: string }) => j.id).sort()).toEqual([JOB_B, ...jobsStartedByB].sort())
    // not one row of A's changed, in any table
    expect(await rowsOf(SHOP_A)).toEqual(before)
    // A's member kept A's role, and A's key still works for A
    const me = await api.call(server, "GET", "/app/me", sessionFor(SHOP_A, MEMBER_A))
    expect([me.json.shop, me.json.principal.role]).toEqual([SHOP_A, "analyst"])
    const viaKey = await api.call(server, "GET", "/app/jobs", keyOfA)
    expect(viaKey.json.jobs.map((j: { id: string }) => j.id)).toEqual([JOB_A])
  })

  it("the same id routes with shop A's own owner do act on A's data (B's 404s were tenancy, not broken routes)", async () => {
    const owner = sessionFor(SHOP_A, "alpha-owner")
    for (const route of ADMIN_ROUTES.filter((r) => Object.keys(r.params).length > 0 && r.upsert !== true)) {
      const { path } = pathWithIdsOfA(route)
      const res = await api.call(server, route.method, path, owner, sampleBody(route, "alpha"))
      // (rejecting what the previous route approved: found, and no longer waiting; undoing an
      // execution that never ran here: found, and not applied)
      const acted = [200, 202, 204].includes(res.status) || (res.status === 409 && ["not_awaiting", "not_applied"].includes(res.json.error.code))
      expect(acted, `${route.method} ${path} → ${res.status} ${res.text.slice(0, 200)}`).toBe(true)
    }
    const members = await api.call(server, "GET", "/app/members", owner)
    expect(members.text).not.toContain(MEMBER_A)
    expect((await api.call(server, "GET", "/app/jobs", keyOfA)).status).toBe(401)
  })

  it("every /app route the Hono app serves is declared in the catalog, and every declared route is served", () => {
    const served = new Set(server.app.routes.filter((r) => r.path.startsWith("/app")).map((r) => `${r.method} ${r.path}`))
    const declared = new Set(ADMIN_ROUTES.map(routeName))
    expect([...served].sort()).toEqual([...declared].sort())
    expect(declared.size).toBe(ADMIN_ROUTES.length)
  })
})
