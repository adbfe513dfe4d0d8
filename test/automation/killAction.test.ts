/**
 * The decision plane end to end with real processes and real SIGKILLs (issue 11 "done means"
 * and §8's crash test), on both shop logs: the real program (`node src/cli.ts start`) as an
 * ingress, a projector and one worker at a time on PostgreSQL (and JetStream); the Shopify
 * simulator in this process, reached by each worker through its own path of a pass-through
 * proxy, so the test can stop a worker at an exact Admin API call.
 *
 * A rule created over HTTP fires from real signed `products/create` + `products/update`
 * webhooks (a product sent back to draft), and:
 *  1. product A: the worker dies between the snapshot and the handler (its handler's look-up
 *     reached Shopify; the snapshot was committed) — the next worker's watchdog re-drives the
 *     handler: the tags are added once;
 *  2. product B: the worker dies after `tagsAdd` reached Shopify, before it could record it —
 *     the re-driven handler finds the tags there and does not send `tagsAdd` again.
 * Then: both executions are `applied` once, the audit and the why-chain (from the Shopify
 * delivery to the action) are readable, undo over HTTP restores product A on Shopify, and a
 * backtest over the same window fires on the same products.
 *
 * Outbound webhooks (issue 12 §1): with a subscription to a receiver in this process, product
 * C's delivery reaches the receiver, which holds it while its worker is SIGKILLed; the next
 * worker makes the attempt again under the same `webhook-id` (a receiver deduplicates on it),
 * and the delivery is recorded delivered once.
 *
 * Waits are bounded polls of the database and the processes' HTTP APIs.
 */
import { Effect, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { signSessionToken } from "../../adapters/http/SessionToken.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { type CoreServices, coreLayer } from "../../src/CoreLayer.ts"
import { type RunningShopifySimulator, startShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { awaitReady, startSumeru, type SumeruProcess } from "../support/jobProcess.ts"
import { type AdminProxy, startAdminProxy } from "../support/jobProcessShopify.ts"
import { testKeyEnv, testKeyRing } from "../support/keys.ts"
import { openStored } from "../support/storedEvents.ts"

const APP_SECRET = "killaction-app-secret"
const API_KEY = "killaction-api-key"
const SHOP = "killaction.myshopify.com"
const TOKEN = "shpat_killaction"
const A = 11
const B = 12
const C = 13
const gid = (n: number) => `gid://shopify/Product/${n}`

interface StoredEvent {
  readonly type: string
  readonly stream_id: string
  readonly data: Record<string, unknown>
}

describe.each(["jetstream", "embedded"] as const)("actions survive SIGKILLed workers (%s shop log)", (log) => {
  let sim: RunningShopifySimulator
  let proxy: AdminProxy
  let runtime: ManagedRuntime.ManagedRuntime<CoreServices, unknown>
  let ingress: SumeruProcess
  let projector: SumeruProcess
  const workers: Array<SumeruProcess> = []
  let env: Record<string, string>
  /** The webhook receiver: every request's webhook-id; the first one is held until the test releases it. */
  let receiver: Server
  const received: Array<string> = []
  let holdFirst: ((status: number) => void) | undefined
  let firstArrived: Promise<void> = Promise.resolve()
  const timeline: Array<string> = []
  const t0 = Date.now()
  const note = (line: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${line}`)

  const startWorker = async () => {
    const name = `worker-${String.fromCharCode(97 + workers.length)}`
    const w = await startSumeru({ name, role: "worker", env: { ...env, SHOPIFY_ADMIN_URL_OVERRIDE: proxy.urlFor(name) } })
    workers.push(w)
    note(`started ${name}`)
    return w
  }

  const crashed = () => [ingress, projector, ...workers].find((p) => p !== undefined && p.exit() !== null && p.exit()!.signal !== "SIGKILL")

  const until = async <X>(what: string, check: () => Promise<X | undefined>, timeoutMs = 45_000): Promise<X> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const dead = crashed()
      if (dead !== undefined) throw new Error(`${dead.name} exited on its own (${JSON.stringify(dead.exit())}) while waiting for ${what}`)
      const value = await check()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const events = (): Promise<ReadonlyArray<StoredEvent>> =>
    runtime.runPromise(Effect.gen(function*() {
      const q = yield* SqlClient.SqlClient
      const rows = yield* q<{ shop: string; stream_id: string; type: string; data: Record<string, unknown> }>`
        SELECT shop, stream_id, type, data FROM events WHERE shop = ${SHOP} ORDER BY position`
      const opened = (yield* openStored(rows)) as ReadonlyArray<{ type: string; data: Record<string, unknown> }>
      return opened.map((e, i) => ({ ...e, stream_id: rows[i]!.stream_id }))
    }))

  /** The execution of the rule on product `n`, once requested. */
  const executionOf = (n: number) =>
    until(`the execution on product ${n}`, async () =>
      (await events()).find((e) => e.type === "autoaction.requested" && e.data["resourceId"] === gid(n))?.data["executionId"] as string | undefined)

  const runOf = async (executionId: string) => (await events()).filter((e) => e.stream_id === `autoaction-${SHOP}-${executionId}`).map((e) => e.type)

  let deliveries = 0
  const webhook = (topic: string, payload: unknown) => {
    const body = JSON.stringify(payload)
    const n = deliveries++
    return fetch(`${ingress.url}/webhooks/shopify`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": SHOP,
        "x-shopify-api-version": "2026-07",
        "x-shopify-webhook-id": `wh-${log}-${n}`,
        "x-shopify-event-id": `ev-${log}-${n}`,
        "x-shopify-triggered-at": new Date().toISOString(),
        "x-shopify-hmac-sha256": signBody(APP_SECRET, body)
      },
      body
    })
  }
  /** Shopify tells us product `n` was created active, then sent back to draft. */
  const sendBackToDraft = async (n: number) => {
    const product = (status: string, updated_at: string) =>
      ({ id: n, admin_graphql_api_id: gid(n), title: `Tee ${n}`, vendor: "Acme", product_type: "Shirts", tags: "", status, updated_at })
    expect((await webhook("products/create", product("active", "2026-11-20T10:00:00Z"))).status).toBe(200)
    expect((await webhook("products/update", product("draft", "2026-11-20T12:00:00Z"))).status).toBe(200)
  }

  const session = signSessionToken({ shop: SHOP, apiKey: API_KEY, appSecret: APP_SECRET, userId: "ops-1" })
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ingress.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${session}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, text, json: text === "" ? undefined : JSON.parse(text) }
  }

  /** Calls of `rootField` that Shopify executed for product `n`. */
  const executed = (rootField: string, n: number) =>
    sim.shop(SHOP).requests.filter((r) => r.outcome === "ok" && r.rootFields.includes(rootField) && (r.variables as { id?: string } | undefined)?.id === gid(n)).length

  beforeAll(async () => {
    const databaseUrl = freshPostgresUrl()
    runtime = ManagedRuntime.make(coreLayer(layerPostgres(Redacted.make(databaseUrl), { maxConnections: 4 }), testKeyRing()))
    await runtime.runPromise(Effect.void)
    sim = await startShopifySimulator({
      appSecret: APP_SECRET,
      apiKey: API_KEY,
      shops: [{ domain: SHOP, accessToken: TOKEN, products: 20, seed: 3 }],
      bulkPace: "immediate"
    } as Parameters<typeof startShopifySimulator>[0])
    proxy = await startAdminProxy(sim.url)
    let arrived: () => void = () => undefined
    firstArrived = new Promise((resolve) => (arrived = resolve))
    receiver = createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        received.push(String(req.headers["webhook-id"]))
        if (received.length === 1) {
          holdFirst = (status) => {
            holdFirst = undefined
            if (!res.writableEnded && !res.destroyed) res.writeHead(status).end()
          }
          arrived()
        } else {
          res.writeHead(204).end()
        }
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve()))
    const unique = `ka${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
    env = {
      DATABASE_URL: databaseUrl,
      ...(log === "jetstream" ? { NATS_URL: inject("natsUrl"), NATS_STREAM: unique.toUpperCase(), NATS_SUBJECT_PREFIX: unique } : {}),
      SUMERU_PARTITIONS: "4",
      LOG_LEVEL: "Info",
      ...testKeyEnv,
      SHOPIFY_API_KEY: API_KEY,
      SHOPIFY_API_SECRET: APP_SECRET,
      SHOPIFY_SHOP_TOKENS: JSON.stringify({ [SHOP]: TOKEN }),
      AUTOMATION_ACTION_TIMEOUT_MS: "2000",
      AUTOMATION_ACTION_WATCHDOG_MS: "3000",
      OUTBOUND_ALLOWED_TARGETS: `127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OUTBOUND_TIMEOUT_MS: "60000",
      OUTBOUND_WATCHDOG_MS: "3000"
    }
    ingress = await startSumeru({ name: "ingress", role: "ingress", env: { ...env, SHOPIFY_ADMIN_URL_OVERRIDE: proxy.urlFor("ingress") } })
    projector = await startSumeru({ name: "projector", role: "projector", env })
    await startWorker()
    await Promise.all([awaitReady(ingress), awaitReady(projector), awaitReady(workers[0]!)])
  }, 120_000)

  afterAll(async () => {
    await Promise.all([...workers, ingress, projector].filter((p) => p !== undefined).map((p) => p.kill()))
    holdFirst?.(503)
    await new Promise<void>((resolve) => (receiver === undefined ? resolve() : receiver.close(() => resolve())))
    await proxy?.close()
    await sim?.close()
    await runtime?.dispose()
  })

  it("a rule fires from real webhooks; workers killed mid-action change the shop once; audit, why, undo and backtest agree", async () => {
    try {
      const started = new Date(Date.now() - 60_000).toISOString()
      const rule = await admin("POST", "/app/rules", {
        name: "Tag drafts", trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["needs-review"] },
        condition: "resource.payload.vendor == 'Acme'", cooldown_seconds: 0, quiet_hours: null, requires_approval: false, enabled: true
      })
      expect(rule.status, rule.text).toBe(201)

      // 1. between snapshot and handler: the handler's look-up reached Shopify; its worker dies
      const killedA = proxy.gate("SumeruActionProductTags", async (name) => {
        await workers.find((w) => w.name === name)!.kill()
        note(`SIGKILL ${name}: between the snapshot of product ${A} and its handler`)
      }, (v) => v["id"] === gid(A))
      await sendBackToDraft(A)
      await killedA
      const execA = await executionOf(A)
      expect(await runOf(execA)).toEqual(["autoaction.snapshot_taken"])
      await startWorker()
      await until("product A's execution applied", async () => (await runOf(execA)).includes("autoaction.applied") ? true : undefined)
      note(`product ${A}: applied`)

      // 2. after the change: tagsAdd reached Shopify, its worker dies before hearing back
      const killedB = proxy.gate("SumeruActionTagsAdd", async (name) => {
        await workers.find((w) => w.name === name)!.kill()
        note(`SIGKILL ${name}: tagsAdd on product ${B} reached Shopify, not recorded`)
      }, (v) => v["id"] === gid(B))
      await sendBackToDraft(B)
      await killedB
      const execB = await executionOf(B)
      await startWorker()
      await until("product B's execution applied", async () => (await runOf(execB)).includes("autoaction.applied") ? true : undefined)
      note(`product ${B}: applied`)

      // once each: one applied per execution, one tagsAdd per product at Shopify
      for (const [exec, n] of [[execA, A], [execB, B]] as const) {
        expect(await runOf(exec)).toEqual(["autoaction.snapshot_taken", "autoaction.applied"])
        expect(executed("tagsAdd", n)).toBe(1)
        expect(sim.shop(SHOP).product(n).tags).toContain("needs-review")
      }

      // the read models: the execution, its audit line, the why-chain from the Shopify delivery
      const applied = await until("the executions read model", async () => {
        const e = await admin("GET", `/app/executions/${encodeURIComponent(execA)}`)
        return e.status === 200 && e.json.execution.status === "applied" ? e.json.execution : undefined
      })
      expect(applied).toMatchObject({ action_key: "tag_product", after: { added: ["needs-review"] } })
      const why = await admin("GET", `/app/executions/${encodeURIComponent(execA)}/why`)
      expect(why.json.chain.map((l: { kind: string; type: string }) => [l.kind, l.type])).toEqual([
        ["origin", "shopify.webhook"],
        ["data_event", "product.updated"],
        ["trigger", "trigger.received"],
        ["rule", "rule.created"],
        ["execution", "autoaction.requested"],
        ["execution", "autoaction.snapshot_taken"],
        ["execution", "autoaction.applied"]
      ])
      const audit = await until("the audit line", async () => {
        const a = await admin("GET", "/app/audit?q=ran%20tag_product")
        return a.json.entries.length >= 2 ? a.json.entries.map((l: { summary: string }) => l.summary) : undefined
      })
      expect(audit).toContain(`Rule 'Tag drafts' (v1) ran tag_product on Tee ${A} (product.drafted): added the tag needs-review`)

      // undo restores the shop
      const undone = await admin("POST", `/app/executions/${encodeURIComponent(execA)}/undo`)
      expect([undone.status, undone.json.status], undone.text).toEqual([200, "undone"])
      expect(sim.shop(SHOP).product(A).tags).not.toContain("needs-review")

      // ★ backtest over the same history: the rule would have fired on the same products
      const replay = await admin("POST", `/app/rules/${rule.json.rule.id}/backtest`, { from: started, to: new Date(Date.now() + 60_000).toISOString() })
      expect(replay.status, replay.text).toBe(200)
      expect(replay.json.fires.map((f: { resource_id: string }) => f.resource_id)).toEqual([gid(A), gid(B)])

      // 3. an outbound webhook in flight when its worker dies: made again under the same id, delivered once
      const port = (receiver.address() as AddressInfo).port
      const sub = await admin("POST", "/app/webhook-subscriptions", { url: `http://127.0.0.1:${port}/hooks`, events: ["autoaction.applied"] })
      expect(sub.status, sub.text).toBe(201)
      await sendBackToDraft(C)
      await firstArrived
      const holder = workers.find((w) => w.exit() === null)!
      await holder.kill()
      note(`SIGKILL ${holder.name}: a webhook delivery of product ${C} reached the receiver, no answer yet`)
      holdFirst?.(204) // too late: its worker is gone
      await startWorker()
      const deliveryStream = `webhook-delivery-${SHOP}-${received[0]}`
      await until("the delivery recorded delivered", async () =>
        (await events()).some((e) => e.stream_id === deliveryStream && e.type === "webhook.delivered") ? true : undefined)
      expect(received.length).toBeGreaterThanOrEqual(2)
      expect(new Set(received)).toEqual(new Set([received[0]]))
      expect((await events()).filter((e) => e.stream_id === deliveryStream).map((e) => e.type)).toEqual(["webhook.delivery_requested", "webhook.delivered"])
    } catch (e) {
      const tails = [ingress, projector, ...workers].map((p) => `--- ${p.name} (${p.exit() === null ? "running" : JSON.stringify(p.exit())})\n${p.tail(25)}`).join("\n")
      throw new Error(`${e instanceof Error ? e.stack : String(e)}\n\ntimeline:\n${timeline.join("\n")}\n\n${tails}`)
    }
  }, 150_000)
})
