/**
 * `/healthz` (the process is alive), `/readyz` (it can do its job: database reachable, log
 * reachable, projections not stalled) and `/metrics` (Prometheus text).
 */
import { Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { SqlClient } from "effect/sql"
import type { Hono } from "hono"
import { projectionStatus } from "../../src/projections/ProjectionRunner.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { ProjectionStore } from "../../src/projections/ProjectionStore.ts"
import { externalMemory, heapTotal, heapUsed, projectionLag, residentMemory } from "../../src/server/Metrics.ts"
import type { RunEffect } from "./RunEffect.ts"

export interface ReadinessCheck {
  readonly name: string
  readonly check: Effect.Effect<{ readonly ok: boolean; readonly detail?: unknown }, unknown, SqlClient.SqlClient | EventStore | ProjectionStore>
}

const databaseCheck: ReadinessCheck = {
  name: "database",
  check: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`
    return { ok: true }
  })
}

const projectionsCheck: ReadinessCheck = {
  name: "projections",
  check: Effect.gen(function*() {
    const status = yield* projectionStatus
    for (const s of status) {
      yield* Metric.update(Metric.withAttributes(projectionLag, { projection: s.name, generation: String(s.generation), status: s.status }), s.lag)
    }
    const stalled = status.filter((s) => s.stalled)
    return {
      ok: stalled.length === 0,
      detail: status.map((s) => ({ name: s.name, status: s.status, generation: s.generation, lag: s.lag, stalled: s.stalled }))
    }
  })
}

const recordMemory = Effect.suspend(() => {
  const m = process.memoryUsage()
  return Effect.all([
    Metric.update(residentMemory, m.rss),
    Metric.update(heapUsed, m.heapUsed),
    Metric.update(heapTotal, m.heapTotal),
    Metric.update(externalMemory, m.external)
  ], { discard: true })
})

/** Mounts the three routes; `run` provides the database and the stores the checks read. */
export const mountHealthRoutes = (app: Hono, run: RunEffect<SqlClient.SqlClient | EventStore | ProjectionStore>, extraChecks: ReadonlyArray<ReadinessCheck> = []) => {
  const checks = [databaseCheck, projectionsCheck, ...extraChecks]
  app.get("/healthz", (c) => c.json({ status: "ok" }))
  app.get("/readyz", async (c) => {
    const results = await Promise.all(checks.map(async (check) => {
      try {
        const r = await run(Effect.timeout(check.check, "5 seconds"))
        return { name: check.name, ...r }
      } catch (error) {
        return { name: check.name, ok: false, detail: String(error) }
      }
    }))
    const ok = results.every((r) => r.ok)
    return c.json({ status: ok ? "ready" : "not_ready", checks: results }, ok ? 200 : 503)
  })
  app.get("/metrics", async (c) => {
    await run(projectionsCheck.check).catch(() => undefined)
    await run(recordMemory)
    const text = await run(PrometheusMetrics.format())
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4" })
  })
}
