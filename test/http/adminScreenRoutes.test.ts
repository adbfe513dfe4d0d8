/**
 * The admin routes the merchant's app added (issue 15), over real HTTP against PostgreSQL 15 with
 * the shop actors and the Shopify simulator: starting a bulk job from the admin (every problem
 * in one 400, 202, 409 for an identical job), what undoing it would restore (counted from the
 * job's snapshot), and checking a rule as it is typed without recording it.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type AdminApi, type AdminServer, sessionFor, startAdminApi } from "../support/adminApi.ts"
import { pollUntil } from "../support/poll.ts"

const SHOP = "screens.myshopify.com"
let api: AdminApi
let server: AdminServer
const owner = () => sessionFor(SHOP, "owner-user")

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP], automationActors: true })
  server = await api.serveAdmin()
})

afterAll(async () => {
  await api?.close()
})

const job = (value: string, dryRun: boolean) => ({
  query_string: "status:active",
  namespace: "custom",
  key: "screens_badge",
  type: "single_line_text_field",
  value,
  dry_run: dryRun,
  max_items: 1000
})

/** Waits for the job's read model to show it finished. */
const finished = (jobId: string) =>
  api.run(pollUntil(
    Effect.promise(async () => {
      const res = await api.call(server, "GET", `/app/jobs/${jobId}`, owner())
      return res.status === 200 && (res.json.job.status === "COMPLETED" || res.json.job.status === "FAILED") ? res.json.job : undefined
    }),
    `job ${jobId} to finish`
  ))

describe("the admin app's routes", () => {
  it("POST /app/jobs starts the Flow action's job for the caller's shop; every problem in one 400; an identical job is a 409 naming it", async () => {
    const bad = await api.call(server, "POST", "/app/jobs", owner(), { query_string: "", namespace: "x", key: "", type: "no_such_type", value: "v", max_items: -1 })
    expect(bad.status, bad.text).toBe(400)
    const fields = (bad.json.error.errors as ReadonlyArray<{ field: string }>).map((e) => e.field)
    expect(fields).toEqual(expect.arrayContaining(["query_string", "key", "type", "max_items"]))
    // nothing was started: no request reserved, nothing in the shop's log
    const reserved = await api.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM job_requests WHERE shop = ${SHOP}`))
    expect(reserved[0]!.n).toBe(0)

    const started = await api.call(server, "POST", "/app/jobs", owner(), job("First", false))
    expect(started.status, started.text).toBe(202)
    const again = await api.call(server, "POST", "/app/jobs", owner(), job("First", false))
    expect([again.status, again.json.error.code, again.json.job_id]).toEqual([409, "duplicate_job", started.json.job_id])
    const done = await finished(started.json.job_id)
    expect(done.status).toBe("COMPLETED")
    expect(done.updated_count).toBeGreaterThan(0)
    // who asked is on the record: the first line of the job's timeline names the person
    const detail = await api.call(server, "GET", `/app/jobs/${started.json.job_id}`, owner())
    expect(detail.json.events[0].message).toMatch(/requested .*by .*owner-user/)
    // the shop's data: kept by no cache, and the same URL is also the app's page (it varies by Accept)
    expect([detail.headers.get("cache-control"), detail.headers.get("vary")]).toEqual(["private, no-store", "Accept"])
  })

  it("GET /app/jobs/:id/undo-preview counts what undo would restore and what it would remove, from the job's snapshot", async () => {
    // the first job set the metafield where none was: its undo removes it on every product
    const list = await api.call(server, "GET", "/app/jobs", owner())
    const first = list.json.jobs.find((j: { dry_run: boolean }) => !j.dry_run)
    const firstPreview = await api.call(server, "GET", `/app/jobs/${first.id}/undo-preview`, owner())
    expect(firstPreview.status, firstPreview.text).toBe(200)
    expect(firstPreview.json).toMatchObject({ products: first.updated_count, restored: 0, removed: first.updated_count })
    expect(firstPreview.json.sample.length).toBe(Math.min(10, first.updated_count))
    expect(firstPreview.json.sample.every((s: { previous_value: string | null }) => s.previous_value === null)).toBe(true)

    // a second job over the same products: its undo restores the first job's value on each
    const second = await api.call(server, "POST", "/app/jobs", owner(), job("Second", false))
    expect(second.status, second.text).toBe(202)
    const done = await finished(second.json.job_id)
    const preview = await api.call(server, "GET", `/app/jobs/${second.json.job_id}/undo-preview`, owner())
    expect(preview.json).toMatchObject({ products: done.updated_count, restored: done.updated_count, removed: 0 })
    expect(preview.json.sample.every((s: { previous_value: string | null }) => s.previous_value === "First")).toBe(true)

    // the job detail links the undo both ways once it is asked for
    const undo = await api.call(server, "POST", `/app/jobs/${second.json.job_id}/undo`, owner())
    expect(undo.status, undo.text).toBe(202)
    const undone = await finished(undo.json.undo_job_id)
    expect(undone.undo_of).toBe(second.json.job_id)
    const original = await api.call(server, "GET", `/app/jobs/${second.json.job_id}`, owner())
    expect(original.json.job.undone_by).toBe(undo.json.undo_job_id)
  })

  it("POST /app/rules/validate answers the create route's problems (a CEL error at its position) and records nothing", async () => {
    const draft = { name: "Tag drafted", trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["x"] }, condition: "resource.payload.vendor ==" }
    const invalid = await api.call(server, "POST", "/app/rules/validate", owner(), draft)
    expect(invalid.status, invalid.text).toBe(200)
    expect(invalid.json.valid).toBe(false)
    expect(invalid.json.errors).toEqual([{ field: "condition", message: expect.stringContaining("(at position 24)") }])
    // the same problems as creating it would list
    const create = await api.call(server, "POST", "/app/rules", owner(), draft)
    expect([create.status, create.json.error.errors]).toEqual([400, invalid.json.errors])

    const fine = await api.call(server, "POST", "/app/rules/validate", owner(), { ...draft, condition: "resource.payload.vendor == 'Acme'" })
    expect(fine.json).toEqual({ valid: true, errors: [] })
    const several = await api.call(server, "POST", "/app/rules/validate", owner(), { ...draft, name: "", params: {}, cooldown_seconds: -1 })
    expect((several.json.errors as ReadonlyArray<{ field: string }>).map((e) => e.field).sort()).toEqual(["condition", "cooldown_seconds", "name", "params.tags"])
    // nothing recorded
    expect((await api.call(server, "GET", "/app/rules", owner())).json.rules).toEqual([])
    const notJson = await api.call(server, "POST", "/app/rules/validate", owner())
    expect(notJson.status).toBe(400)
  })
})
