/**
 * Crash safety of a Flowmend job with real processes and real SIGKILLs: the real program
 * (`node src/cli.ts start`) as one ingress and two workers on PostgreSQL and JetStream; the
 * Shopify simulator in this process (bulk operations finish only when the test says so),
 * reached by each worker through its own path of a pass-through proxy
 * (`SHOPIFY_ADMIN_URL_OVERRIDE`), so the test knows which worker made each Admin API call.
 *
 * One live job of two chunks (the production chunk size, 95 MiB: 16,000 products with a
 * 1 KiB value of control characters, which JSON escapes to ~6 KB a line), and a worker
 * SIGKILLed at each step; each time a new worker starts, and the survivor or the new one
 * takes the shop's partition over (the job's lost step is re-driven by its watchdog):
 *
 *  1. the bulk query reached Shopify, its worker died before hearing back;
 *  2. the bulk query runs (the partition's owner dies; this time the survivor takes over
 *     alone, then a new worker starts and takes its fair share);
 *  3. chunk 0 is being uploaded (its worker dies as Shopify hands out the staged target);
 *  4. chunk 0's bulk mutation was just submitted and recorded (the owner dies);
 *  5. between chunk uploads: chunk 0 done, chunk 1 being uploaded;
 *  6. chunk 1's bulk mutation reached Shopify, its worker died before it could record it;
 *  7. chunk 1's bulk mutation runs (the owner dies).
 *
 * Then: the job completed exactly once with the right counts; Shopify saw exactly one bulk
 * mutation per chunk (step 6 is found by its client identifier, not submitted again) and two
 * bulk queries — the one of step 1, never recorded, is re-run by design (`JobSteps`: queries
 * are read-only, re-submitting one is harmless; only mutations are looked up before being
 * repeated); every matching product has the value, no other product has it.
 *
 * Waits are bounded polls of the database, the workers' `/readyz` and the proxy.
 */
import { Effect, ManagedRuntime, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, expect, inject, it } from "vitest"
import { signBody } from "../../adapters/http/ShopifyHmac.ts"
import { layerPostgres } from "../../adapters/postgres/Database.ts"
import { metafieldsSetLine } from "../../adapters/shopify/index.ts"
import { partitionOf } from "../../domain/shop/partition.ts"
import { type CoreServices, coreLayer } from "../../src/CoreLayer.ts"
import { CHUNK_BYTES } from "../../adapters/shopify/ShopifyJobSteps.ts"
import { type RunningShopifySimulator, startShopifySimulator } from "../../src/simulator/shopify/index.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { awaitReady, processOfClientPort, startSumeru, type SumeruProcess } from "../support/jobProcess.ts"
import { type AdminProxy, startAdminProxy } from "../support/jobProcessShopify.ts"
import { testKeyEnv, testKeyRing } from "../support/keys.ts"
import { openStored } from "../support/storedEvents.ts"

const APP_SECRET = "killjob-app-secret"
const API_KEY = "killjob-api-key"
const SHOP = "killjob.myshopify.com"
const TOKEN = "shpat_killjob"
const PARTITIONS = 4
const PRODUCTS = 16_040
/** Every 400th product does not match the job's query (tagged `keep`, not `kill`). */
const isKept = (n: number) => n % 400 === 0
const MATCHING = PRODUCTS - Math.floor(PRODUCTS / 400)
const NAMESPACE = "custom"
const KEY = "killed"
/** 1 KiB (the most a value may be) that JSON escapes sixfold: ~15,900 lines fill a 95 MiB chunk. */
const VALUE = "\u0001".repeat(1024)
const WATCHDOG_MS = 6_000

interface StoredEvent {
  readonly type: string
  readonly data: Record<string, unknown>
}

let sim: RunningShopifySimulator
let proxy: AdminProxy
let runtime: ManagedRuntime.ManagedRuntime<CoreServices, unknown>
let ingress: SumeruProcess
const workers: Array<SumeruProcess> = []
let env: Record<string, string>
let spawned = 0
const timeline: Array<string> = []
const t0 = Date.now()
const note = (line: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${line}`)
/** A timeline line naming the shop's partition owner at that moment. */
const noteWithOwner = async (line: string) => note(`${line} (partition owner: ${(await ownerOfShop())?.name ?? "none"})`)

const live = () => workers.filter((w) => w.exit() === null)

const startWorker = async () => {
  const name = `worker-${String.fromCharCode(97 + spawned++)}`
  const w = await startSumeru({ name, role: "worker", env: { ...env, SHOPIFY_ADMIN_URL_OVERRIDE: proxy.urlFor(name) } })
  workers.push(w)
  return w
}

/** A process that ended by itself (not by the test's SIGKILL): nothing will go on, fail now. */
const crashed = () => [ingress, ...workers].find((p) => p !== undefined && p.exit() !== null && p.exit()!.signal !== "SIGKILL")

/** A bounded poll: `check` until it yields a value. */
const until = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 45_000, intervalMs = 50): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const dead = crashed()
    if (dead !== undefined) throw new Error(`${dead.name} exited on its own (${JSON.stringify(dead.exit())}) while waiting for ${what}`)
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

const sql = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>): Promise<A> =>
  runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, f))

const jobEvents = (jobId: string): Promise<ReadonlyArray<StoredEvent>> =>
  runtime.runPromise(Effect.gen(function*() {
    const q = yield* SqlClient.SqlClient
    const rows = yield* q<{ shop: string; type: string; data: Record<string, unknown> }>`
      SELECT shop, type, data FROM events WHERE stream_id = ${`job-${jobId}`} ORDER BY stream_version`
    return (yield* openStored(rows)) as ReadonlyArray<StoredEvent>
  }))

/** Waits for the job's event `type` (matching `pred`); a failed job fails the wait at once. */
const awaitEvent = (jobId: string, type: string, pred: (data: Record<string, unknown>) => boolean = () => true) =>
  until(`${type} of job ${jobId}`, async () => {
    const events = await jobEvents(jobId)
    const failed = events.find((e) => e.type === "job.failed")
    if (failed !== undefined) throw new Error(`the job failed: ${JSON.stringify(failed.data)}`)
    return events.find((e) => e.type === type && pred(e.data))
  })

/** The live worker holding the lock of the shop's partition (pg_locks → its backend's client port → the process). */
const ownerOfShop = async (): Promise<SumeruProcess | undefined> => {
  const rows = await sql((q) => q<{ client_port: number | null }>`
    SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = hashtext('sumeru.partition')::oid AND l.objid::int = ${partitionOf(SHOP, PARTITIONS)}`)
  const port = rows[0]?.client_port
  return port === null || port === undefined ? undefined : processOfClientPort(live(), port)
}

/** SIGKILL `w`, and (unless told not to) start a new worker in its place. */
const crash = async (w: SumeruProcess, when: string, replace = true) => {
  await w.kill()
  note(`SIGKILL ${w.name}: ${when}`)
  if (replace) note(`started ${(await startWorker()).name}`)
}

/** Both workers up (each owns partitions) before the next kill: there is always a survivor. */
const bothReady = () => Promise.all(live().map((w) => awaitReady(w)))

/** Kills the owner of the shop's partition at a moment it has no Shopify call in flight. */
const killOwner = async (when: string, replace = true) => {
  await bothReady()
  const owner = await until("the owner of the shop's partition, between two Shopify calls", async () => {
    const o = await ownerOfShop()
    return o !== undefined && proxy.quietFor(o.name, 300) ? o : undefined
  })
  await crash(owner, when, replace)
}

/** The next `operation` (with `match`ing variables) reaches Shopify, and the worker that sent it dies before it hears back. */
const killAt = (operation: string, when: string, match?: (variables: Record<string, unknown>) => boolean) =>
  proxy.gate(operation, async (name) => {
    const w = workers.find((x) => x.name === name)!
    await crash(w, when)
  }, match)

const postJob = (body: unknown) => {
  const raw = JSON.stringify(body)
  return fetch(`${ingress.url}/webhooks/flow-action`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-shopify-hmac-sha256": signBody(APP_SECRET, raw), "x-shopify-shop-domain": SHOP },
    body: raw
  })
}

beforeAll(async () => {
  const databaseUrl = freshPostgresUrl()
  // migrates the database once, before any process starts; reads (and opens) events for the test
  runtime = ManagedRuntime.make(coreLayer(layerPostgres(Redacted.make(databaseUrl), { maxConnections: 4 }), testKeyRing()))
  await runtime.runPromise(Effect.void)
  sim = await startShopifySimulator({
    appSecret: APP_SECRET,
    apiKey: API_KEY,
    shops: [{
      domain: SHOP,
      accessToken: TOKEN,
      products: Array.from({ length: PRODUCTS }, (_, i) => ({ title: `Product ${i + 1}`, status: "ACTIVE", tags: [isKept(i + 1) ? "keep" : "kill"] }))
    }],
    bulkPace: "manual"
  } as Parameters<typeof startShopifySimulator>[0])
  proxy = await startAdminProxy(sim.url)
  const unique = `kj${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  env = {
    DATABASE_URL: databaseUrl,
    NATS_URL: inject("natsUrl"),
    NATS_STREAM: unique.toUpperCase(),
    NATS_SUBJECT_PREFIX: unique,
    SUMERU_PARTITIONS: String(PARTITIONS),
    LOG_LEVEL: "Info",
    ...testKeyEnv,
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: APP_SECRET,
    SHOPIFY_SHOP_TOKENS: JSON.stringify({ [SHOP]: TOKEN }),
    JOB_POLL_QUERY_MS: "2000",
    JOB_POLL_MUTATION_MS: "2000",
    JOB_WATCHDOG_MS: String(WATCHDOG_MS),
    JOB_RETRY_DELAY_MS: "500"
  }
  ingress = await startSumeru({ name: "ingress", role: "ingress", env: { ...env, SHOPIFY_ADMIN_URL_OVERRIDE: proxy.urlFor("ingress") } })
  await Promise.all([startWorker(), startWorker()])
  await Promise.all([awaitReady(ingress), bothReady()])
  sim.setWebhookUrl(`${ingress.url}/webhooks/shopify`)
  note("ingress, worker-a and worker-b ready")
}, 120_000)

afterAll(async () => {
  await Promise.all([...workers, ...(ingress === undefined ? [] : [ingress])].map((p) => p.kill()))
  await proxy?.close()
  await sim?.close()
  await runtime?.dispose()
})

it("SIGKILLed workers at every step of a two-chunk job: it completes once, no chunk submitted twice", async () => {
  const shop = sim.shop(SHOP)
  const ops = (type: "QUERY" | "MUTATION") => shop.bulkOperations().filter((o) => o.type === type)
  const lineBytes = Buffer.byteLength(metafieldsSetLine(shop.productGid(PRODUCTS), { namespace: NAMESPACE, key: KEY, type: "single_line_text_field", value: VALUE })) + 1
  const chunks = Math.ceil(MATCHING / Math.floor(CHUNK_BYTES / lineBytes))
  expect(chunks).toBe(2)
  try {
    // 1. the bulk query reaches Shopify; the worker that submitted it dies before hearing back
    const queryKilled = killAt("SumeruBulkQueryRun", "the bulk query reached Shopify, not recorded")
    const res = await postJob({ query_string: "tag:kill", namespace: NAMESPACE, key: KEY, type: "single_line_text_field", value: VALUE, dry_run: false, max_items: 20_000 })
    expect(res.status).toBe(202)
    const { job_id: jobId } = await res.json() as { job_id: string }
    await queryKilled
    const query = String((await awaitEvent(jobId, "job.bulk_query_started")).data["bulkOperationId"])
    await noteWithOwner(`query ${query} recorded`)

    // 2. the query runs at Shopify; the partition's owner dies. No new worker this time: the
    // survivor takes the partition over once the dead one's heartbeat is stale; then a new
    // worker starts and takes its fair share (the shop's partition may move once more)
    expect((await shop.bulk.step(query, 500)).status).toBe("RUNNING")
    await killOwner("the bulk query runs", false)
    const survivor = live()[0]!
    await until(`${survivor.name} to take the shop's partition over`, async () => (await ownerOfShop()) === survivor ? true : undefined)
    note(`${survivor.name} owns the shop's partition`)
    note(`started ${(await startWorker()).name}`)

    // 3. chunk 0's upload: its worker dies as Shopify hands out the staged upload target
    const uploadKilled = killAt("SumeruStagedUploadsCreate", "chunk 0 is being uploaded")
    await shop.bulk.complete(query)
    note("query completed at Shopify")
    await uploadKilled

    // 4. chunk 0's bulk mutation submitted and recorded; the owner dies
    const mutation0 = String((await awaitEvent(jobId, "job.bulk_mutation_started", (d) => d["chunkIndex"] === 0)).data["bulkOperationId"])
    await noteWithOwner(`chunk 0: mutation ${mutation0} recorded`)
    await killOwner("chunk 0's bulk mutation was just submitted")

    // 5. between chunk uploads: chunk 0 done, chunk 1's upload starting
    const secondUploadKilled = killAt("SumeruStagedUploadsCreate", "between chunk uploads (chunk 1 is being uploaded)")
    await shop.bulk.complete(mutation0)
    note("chunk 0's mutation completed at Shopify")
    await secondUploadKilled

    // 6. chunk 1's bulk mutation reaches Shopify; its worker dies before recording it
    await killAt("SumeruBulkMutationRun", "chunk 1's bulk mutation reached Shopify, not recorded", (v) => v["clientIdentifier"] === `job_${jobId}_chunk_1`)
    const mutation1 = String((await awaitEvent(jobId, "job.bulk_mutation_started", (d) => d["chunkIndex"] === 1)).data["bulkOperationId"])
    await noteWithOwner(`chunk 1: mutation ${mutation1} recorded`)

    // 7. chunk 1's mutation runs; the owner dies
    expect((await shop.bulk.step(mutation1, 20)).status).toBe("RUNNING")
    await killOwner("chunk 1's bulk mutation runs")
    await shop.bulk.complete(mutation1)
    note("chunk 1's mutation completed at Shopify")

    const completed = await awaitEvent(jobId, "job.completed")
    await noteWithOwner("job.completed")
    expect(completed.data).toMatchObject({ dryRun: false, matchedCount: MATCHING, updatedCount: MATCHING, failedCount: 0 })

    const events = await jobEvents(jobId)
    const types = events.map((e) => e.type)
    expect(types.filter((t) => t === "job.completed")).toHaveLength(1)
    expect(types).not.toContain("job.failed")
    const started = events.filter((e) => e.type === "job.bulk_mutation_started").map((e) => [e.data["chunkIndex"], e.data["bulkOperationId"]])
    expect(started).toEqual([[0, mutation0], [1, mutation1]])
    const uploaded = new Map(events.filter((e) => e.type === "job.mutation_uploaded").map((e) => [e.data["chunkIndex"], e.data["lines"]]))
    const results = events.filter((e) => e.type === "job.mutation_completed").map((e) => [e.data["chunkIndex"], e.data["updatedCount"], e.data["failedCount"]])
    expect(results).toEqual([[0, uploaded.get(0), 0], [1, uploaded.get(1), 0]])
    expect((uploaded.get(0) as number) + (uploaded.get(1) as number)).toBe(MATCHING)

    // Shopify: one bulk mutation per chunk, each the one the job recorded (and no other submission even tried)
    const sent = (operation: string) => proxy.calls().filter((c) => c.operation === operation).length
    expect(sent("SumeruBulkMutationRun")).toBe(2)
    expect(sent("SumeruBulkQueryRun")).toBe(2)
    const mutations = ops("MUTATION")
    expect(mutations.map((o) => o.clientIdentifier)).toEqual([`job_${jobId}_chunk_0`, `job_${jobId}_chunk_1`])
    expect(mutations.map((o) => `gid://shopify/BulkOperation/${o.id}`)).toEqual([mutation0, mutation1])
    // two queries: the one of step 1 (never recorded, left CREATED) and its re-run, the only one recorded
    const queries = ops("QUERY")
    expect(queries).toHaveLength(2)
    expect(`gid://shopify/BulkOperation/${queries[1]!.id}`).toBe(query)
    expect(queries[0]!.status).toBe("CREATED")
    expect(events.filter((e) => e.type === "job.bulk_query_started").map((e) => e.data["bulkOperationId"])).toEqual([query])

    // every matching product has the value, the others have none
    const wrong: Array<number> = []
    for (let n = 1; n <= PRODUCTS; n++) {
      const value = shop.metafield(n, NAMESPACE, KEY)?.value
      if (isKept(n) ? value !== undefined : value !== VALUE) wrong.push(n)
    }
    expect(wrong).toEqual([])
    expect(timeline.filter((l) => l.includes("SIGKILL"))).toHaveLength(7)
  } catch (e) {
    const tails = [ingress, ...workers].map((p) => `--- ${p.name} (${p.exit() === null ? "running" : JSON.stringify(p.exit())})\n${p.tail(25)}`).join("\n")
    throw new Error(`${e instanceof Error ? e.stack : String(e)}\n\ntimeline:\n${timeline.join("\n")}\n\n${tails}`)
  } finally {
    console.log(`timeline:\n${timeline.join("\n")}`)
  }
}, 150_000)
