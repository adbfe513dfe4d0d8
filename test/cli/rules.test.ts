/**
 * The decision plane's CLI (issue 11 §2, §6, §7) on PostgreSQL 15 with the embedded shop log:
 * - with the shop's actor running (in this process, as a worker would), `rules create` from the
 *   admin API's JSON is decided by the actor and listed at once; enable/disable/delete are new
 *   versions, each recorded as requested by `cli:<user>`;
 * - with no worker, a change is queued on the shop's log (`pending`, exit 0), not applied;
 * - an invalid rule file lists every problem with its field, exits 1 and publishes nothing;
 * - `list`/`show` read the shop's `rules-<shop>` stream; `backtest` prints the fires of a
 *   stored history; `why` prints an execution's chain, oldest first; `executions undo` refuses
 *   an execution that was never applied, before anything is sent.
 */
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as Database from "../../adapters/postgres/Database.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { automationStreamId } from "../../src/automation/AutomationFold.ts"
import { makeRuleHandlers } from "../../src/automation/RuleHandlers.ts"
import { rulesStreamId } from "../../src/automation/RulesFold.ts"
import { TRIGGER_RECEIVED, triggerStreamId } from "../../src/automation/TriggerHandlers.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { makePlanHandlers } from "../../src/app/PlanHandlers.ts"
import { exampleRuleJson } from "../support/automation.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"
import { cliEnv, expectUserError, runCli, withEmbedded, withPostgres } from "./support.ts"

const dir = mkdtempSync(join(tmpdir(), "sumeru-cli-rules-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, value: unknown): string => {
  const path = join(dir, name)
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value))
  return path
}

/** The shop log's pending messages of `shop` (what no worker has taken yet). */
const queued = (url: string, shop: string) =>
  withPostgres(url, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ message_id: string; message: { type: string; payload: any } }>`
      SELECT message_id, message FROM shop_log WHERE shop = ${shop} ORDER BY seq`
  }))

/** The data of every event of `streamId`, in order. */
const streamOf = (url: string, streamId: string) =>
  withPostgres(url, Effect.map(Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readStream(streamId))), (c) => [...c]))

const system = { correlationId: "cli-test", actor: { kind: "system", id: "test" } } as const

/** A rule as the actor records it (`rule.created`), appended directly to `rules-<shop>`. */
const ruleCreated = (ruleId: string, overrides: Record<string, unknown> = {}) => ({
  type: "rule.created",
  data: {
    type: "rule.created",
    ruleId,
    version: 1,
    enabled: true,
    name: "Tag Acme drafts",
    triggerEvent: "product.drafted",
    actionKey: "tag_product",
    params: { tags: ["needs-review"] },
    condition: "resource.payload.vendor == 'Acme'",
    cooldownSeconds: 3600,
    quietHours: null,
    requiresApproval: false,
    requestedBy: "ops-1",
    ...overrides
  }
})

const product = (n: number, vendor: string, at: string) => ({
  resourceType: "product",
  resourceId: `gid://shopify/Product/${n}`,
  payload: { title: `P${n}`, vendor, productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: at }
})

/** A recorded trigger (`trigger.received` on `triggers-<shop>`), as the shop's actor records it. */
const triggerReceived = (triggerId: string, at: string, resources: ReadonlyArray<ReturnType<typeof product>>) => ({
  type: TRIGGER_RECEIVED,
  occurredAt: new Date(at),
  data: {
    triggerId,
    trigger: { event: "product.drafted", resources },
    emittedAt: at,
    emittedBy: { kind: "operator", id: "ops-1" }
  }
})

describe("with the shop's actor running", () => {
  const SHOP = "cli-rules.myshopify.com"
  const url = freshPostgresUrl()
  const env = cliEnv({ url })
  /** The worker's shop actors, with the rule handlers, on the same database and shop log. */
  const startWorker = () => {
    const core = coreLayer(Database.layerPostgres(Redacted.make(url), { maxConnections: 4 }), testKeyRing())
    const handlers = Layer.effect(ShopHandlers, Effect.gen(function*() {
      return makeDispatcher({ ...(yield* makeRuleHandlers), ...(yield* makePlanHandlers) })
    }))
    return ManagedRuntime.make(
      actorRuntimeLayer().pipe(Layer.provide(handlers), Layer.provideMerge(EmbeddedShopLog.layerConfig), Layer.provideMerge(core))
    )
  }
  let runtime: ReturnType<typeof startWorker> | undefined

  beforeAll(async () => {
    runtime = startWorker()
    await runtime.runPromise(Effect.void)
  })
  afterAll(async () => {
    await runtime?.dispose()
  })

  it("shops plan sets the shop's plan through its actor, as an operator; the same plan again is no change", async () => {
    const set = await runCli(["shops", "plan", SHOP, "pro", "--wait", "30"], env)
    expect([set.code, set.stdout.trim()], set.stderr).toEqual([0, `${SHOP}: plan free → pro`])
    const again = await runCli(["shops", "plan", SHOP, "pro", "--json"], env)
    expect(JSON.parse(again.stdout)).toEqual({ shop: SHOP, plan: "pro", status: "set", previous: "pro" })
    const bad = await runCli(["shops", "plan", SHOP, "platinum"], env)
    expect(bad.code).not.toBe(0)
    const back = await runCli(["shops", "plan", SHOP, "free", "--wait", "30"], env)
    expect(back.stdout.trim(), back.stderr).toBe(`${SHOP}: plan pro → free`)
  })

  it("create from a file is applied by the actor and listed; enable, disable, delete are new versions by cli:<user>", async () => {
    const created = await runCli(["rules", "create", SHOP, "--file", file("rule.json", exampleRuleJson), "--wait", "30", "--json"], env)
    expect(created.code, created.stderr).toBe(0)
    const out = JSON.parse(created.stdout)
    expect(out).toMatchObject({ status: "applied", rule: { ...exampleRuleJson, version: 1, deleted: false } })
    const id: string = out.rule.id

    const listed = await runCli(["rules", "list", SHOP], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+1\\s+enabled\\s+product\\.drafted\\s+tag_product\\s+Tag drafted products`))
    const json = JSON.parse((await runCli(["rules", "list", SHOP, "--json"], env)).stdout)
    expect(json).toEqual({ rules: [out.rule] })

    const again = await runCli(["rules", "enable", SHOP, id], env)
    expect([again.code, again.stdout.trim()]).toEqual([0, `rule ${id} is already enabled (version 1)`])
    const disabled = await runCli(["rules", "disable", SHOP, id, "--wait", "30"], env)
    expect([disabled.code, disabled.stdout.trim()], disabled.stderr).toEqual([0, `disabled rule ${id} (version 2)`])
    const shown = await runCli(["rules", "show", SHOP, id], env)
    expect(shown.stdout).toMatch(new RegExp(`^rule\\s+${id} \\(version 2, disabled\\)$`, "m"))
    expect(shown.stdout).toMatch(/^condition\s+resource\.payload\.vendor == 'Acme'$/m)
    expect(shown.stdout).toMatch(/^quiet hours\s+22:00–08:00 \(UTC\)$/m)
    const enabled = await runCli(["rules", "enable", SHOP, id, "--wait", "30", "--json"], env)
    expect(JSON.parse(enabled.stdout)).toMatchObject({ status: "applied", rule: { id, version: 3, enabled: true } })
    const deleted = await runCli(["rules", "delete", SHOP, id, "--wait", "30"], env)
    expect([deleted.code, deleted.stdout], deleted.stderr).toEqual([0, expect.stringContaining(`deleted rule ${id} (version 4`)])

    expect((await runCli(["rules", "list", SHOP], env)).stdout.trim()).toBe("no rules")
    expect((await runCli(["rules", "list", SHOP, "--all"], env)).stdout).toMatch(new RegExp(`${id}\\s+4\\s+deleted`))
    expectUserError(await runCli(["rules", "disable", SHOP, id], env), /was deleted \(at version 4\)/)
    const history = (await streamOf(url, rulesStreamId(SHOP))).filter((e) => (e.data as { ruleId?: string }).ruleId === id)
    expect(history.map((e) => e.type)).toEqual(["rule.created", "rule.disabled", "rule.enabled", "rule.deleted"])
    // the operator, as the audit's "changed by"
    expect(history.every((e) => /^cli:.+/.test((e.data as { requestedBy: string }).requestedBy))).toBe(true)
    expect(await queued(url, SHOP)).toEqual([]) // every message taken and acked
  })

  it("a rule needing a plan the shop is not on is refused with the reason before anything is sent", async () => {
    const proRule = { ...exampleRuleJson, trigger_event: "mc.product_disapproved", action_key: "hide_disapproved_product", params: {}, condition: null }
    const r = await runCli(["rules", "create", SHOP, "--file", file("pro.json", proRule)], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("\n  action_key: hide_disapproved_product needs the pro plan (the shop is on free)")
    expect((await runCli(["rules", "list", SHOP, "--all", "--json"], env)).stdout).not.toContain("hide_disapproved_product")
    expect(await queued(url, SHOP)).toEqual([])
  })
})

describe("without a worker", () => {
  const SHOP = "cli-queued.myshopify.com"
  const url = freshPostgresUrl()
  const env = cliEnv({ url })

  it("a change is queued for the shop's actor: pending, exit 0, the rule command on the shop's log, no rule yet", async () => {
    const human = await runCli(["rules", "create", SHOP, "--file", file("queued.json", exampleRuleJson), "--wait", "1"], env)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^queued: create rule [0-9a-f-]{36} \("Tag drafted products"\) in cli-queued\.myshopify\.com\. It will be applied when Sumeru's worker next runs/)
    const json = await runCli(["rules", "create", SHOP, "--file", file("queued.json", exampleRuleJson), "--wait", "0", "--json"], env)
    expect(json.code, json.stderr).toBe(0)
    const out = JSON.parse(json.stdout)
    expect(out).toEqual({ status: "pending", rule_id: expect.stringMatching(/^[0-9a-f-]{36}$/) })

    const messages = await queued(url, SHOP)
    expect(messages).toHaveLength(2)
    const last = messages[1]!.message
    expect(last.type).toBe("automation.rule_command")
    expect(last.payload).toMatchObject({
      command: { type: "CreateRule", ruleId: out.rule_id, spec: { name: exampleRuleJson.name, triggerEvent: "product.drafted", actionKey: "tag_product", cooldownSeconds: 3600, enabled: true } },
      requestedBy: expect.stringMatching(/^cli:.+/)
    })
    expect((await runCli(["rules", "list", SHOP], env)).stdout.trim()).toBe("no rules")
  })

  it("an invalid rule file: every problem with its field, exit 1, nothing published", async () => {
    const bad = file("bad.json", {
      ...exampleRuleJson,
      name: "",
      trigger_event: "seo.content_decay_detected",
      params: { tags: [] },
      condition: "resource.payload.dropPct >",
      quiet_hours: { start: "22:00", end: "8am" },
      cooldown_seconds: -5,
      colour: "red"
    })
    const r = await runCli(["rules", "create", "cli-invalid.myshopify.com", "--file", bad], env)
    expect(r.code).toBe(1)
    const [head, ...problems] = r.stderr.trimEnd().split("\n")
    expect(head).toBe(`error: ${bad} is not a valid rule (7 problems); nothing was changed`)
    expect(problems.map((p) => p.trim().split(":")[0]).sort()).toEqual(
      ["action_key", "colour", "condition", "cooldown_seconds", "name", "params.tags", "quiet_hours"]
    )
    expect(problems).toContain("  action_key: tag_product does not run on seo.content_decay_detected (it runs on product.published, product.drafted, mc.product_approved)")
    expect(problems.find((p) => p.startsWith("  condition:"))).toMatch(/at position 2\d/)
    expect(r.stdout).toBe("")
    expect(r.stderr).not.toMatch(/\n\s+at /)

    const asJson = await runCli(["rules", "create", "cli-invalid.myshopify.com", "--file", bad, "--json"], env)
    expect(asJson.code).toBe(1)
    const parsed = JSON.parse(asJson.stdout)
    expect(parsed.status).toBe("invalid")
    expect(parsed.errors).toHaveLength(7)
    expect(parsed.errors).toContainEqual({ field: "colour", message: "is not a rule field" })

    expectUserError(await runCli(["rules", "create", "cli-invalid.myshopify.com", "--file", file("broken.json", "{ not json")], env), /broken\.json is not JSON/)
    expect(await queued(url, "cli-invalid.myshopify.com")).toEqual([])
  })

  it("list and show read the rules on the shop's rules stream", async () => {
    const shop = "cli-read.myshopify.com"
    await withPostgres(url, Effect.flatMap(EventStore, (store) =>
      store.append(rulesStreamId(shop), shop, "no_stream", [
        ruleCreated("r-1"),
        ruleCreated("r-2", { name: "Quiet ones", enabled: false, condition: null, quietHours: { start: "22:00", end: "08:00" } })
      ], system)))
    const listed = await runCli(["rules", "list", shop], env)
    expect(listed.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^ID\s+VER\s+STATUS\s+TRIGGER\s+ACTION\s+NAME$/),
      expect.stringMatching(/^r-1\s+1\s+enabled\s+product\.drafted\s+tag_product\s+Tag Acme drafts$/),
      expect.stringMatching(/^r-2\s+1\s+disabled\s+product\.drafted\s+tag_product\s+Quiet ones$/)
    ])
    const shown = JSON.parse((await runCli(["rules", "show", shop, "r-2", "--json"], env)).stdout)
    expect(shown).toEqual({
      rule: {
        id: "r-2", version: 1, name: "Quiet ones", trigger_event: "product.drafted", action_key: "tag_product", params: { tags: ["needs-review"] },
        condition: null, cooldown_seconds: 3600, quiet_hours: { start: "22:00", end: "08:00" }, requires_approval: false, enabled: false, deleted: false
      }
    })
    const human = await runCli(["rules", "show", shop, "r-2"], env)
    expect(human.stdout).toMatch(/^condition\s+none \(always\)$/m)
    expectUserError(await runCli(["rules", "show", shop, "r-9"], env), /cli-read\.myshopify\.com has no rule r-9/)
  })

  it("backtest prints the fires of a stored history and the skips by reason", async () => {
    const shop = "cli-backtest.myshopify.com"
    await withPostgres(url, Effect.gen(function*() {
      const store = yield* EventStore
      yield* store.append(rulesStreamId(shop), shop, "no_stream", [ruleCreated("r-bt")], system)
      yield* store.append(triggerStreamId(shop), shop, "any", [
        triggerReceived("t1", "2026-11-30T09:00:00.000Z", [product(1, "Acme", "2026-11-30T09:00:00Z"), product(2, "Other", "2026-11-30T09:00:00Z")]),
        triggerReceived("t2", "2026-11-30T09:30:00.000Z", [product(1, "Acme", "2026-11-30T09:30:00Z")]), // cooldown
        triggerReceived("t3", "2026-11-30T11:00:00.000Z", [product(3, "Acme", "2026-11-30T11:00:00Z")]),
        triggerReceived("t4", "2026-12-05T11:00:00.000Z", [product(4, "Acme", "2026-12-05T11:00:00Z")]) // after the window
      ], system)
    }))
    const window = ["--from", "2026-11-30T00:00:00Z", "--to", "2026-12-01T00:00:00Z"]
    const human = await runCli(["rules", "backtest", shop, "r-bt", ...window], env)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout.trimEnd().split("\n")).toEqual([
      `rule r-bt ("Tag Acme drafts", version 1) from 2026-11-30T00:00:00.000Z to 2026-12-01T00:00:00.000Z: 3 triggers scanned, 2 fires`,
      expect.stringMatching(/^AT\s+RESOURCE\s+TYPE\s+KIND\s+TRIGGER$/),
      expect.stringMatching(/^2026-11-30T09:00:00\.000Z\s+gid:\/\/shopify\/Product\/1\s+product\s+execute\s+t1$/),
      expect.stringMatching(/^2026-11-30T11:00:00\.000Z\s+gid:\/\/shopify\/Product\/3\s+product\s+execute\s+t3$/),
      "skipped: condition_false 1, cooldown 1"
    ])
    const json = await runCli(["rules", "backtest", shop, "r-bt", ...window, "--json"], env)
    expect(JSON.parse(json.stdout)).toEqual({
      rule_id: "r-bt",
      fires: [
        { resource_id: "gid://shopify/Product/1", resource_type: "product", at: "2026-11-30T09:00:00.000Z", trigger_id: "t1", kind: "execute" },
        { resource_id: "gid://shopify/Product/3", resource_type: "product", at: "2026-11-30T11:00:00.000Z", trigger_id: "t3", kind: "execute" }
      ],
      skipped: { condition_false: 1, cooldown: 1 },
      events_scanned: 3
    })
    expectUserError(await runCli(["rules", "backtest", shop, "r-bt", "--from", "2026-12-01", "--to", "2026-11-30"], env), /--to .* must be after --from/)
  })

  it("why prints an execution's chain oldest first; undo refuses an execution that never ran, sending nothing", async () => {
    const shop = "cli-why.myshopify.com"
    const executionId = "t1_r-why_0"
    await withPostgres(url, Effect.gen(function*() {
      const store = yield* EventStore
      yield* store.append(rulesStreamId(shop), shop, "no_stream", [ruleCreated("r-why")], system)
      yield* store.append(triggerStreamId(shop), shop, "any", [
        triggerReceived("t1", "2026-11-30T09:00:00.000Z", [product(1, "Acme", "2026-11-30T09:00:00Z")])
      ], system)
      yield* store.append(automationStreamId(shop), shop, "any", [{
        type: "autoaction.requested",
        occurredAt: new Date("2026-11-30T09:00:01.000Z"),
        data: {
          type: "autoaction.requested", executionId, triggerId: "t1", triggerEvent: "product.drafted", ruleId: "r-why", ruleVersion: 1,
          ruleName: "Tag Acme drafts", actionKey: "tag_product", resourceType: "product", resourceId: "gid://shopify/Product/1",
          resourceLabel: "P1", params: { tags: ["needs-review"] }
        }
      }], { correlationId: "t1", actor: { kind: "rule", id: "r-why" } })
    }))
    const human = await runCli(["why", shop, executionId], env)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^AT\s+KIND\s+ACTOR\s+SUMMARY$/),
      expect.stringMatching(/^2026-11-30T09:00:00\.000Z\s+origin\s+operator:ops-1\s+ops-1 emitted the trigger by hand$/),
      expect.stringMatching(/^2026-11-30T09:00:00\.000Z\s+trigger\s+system:test\s+Trigger product\.drafted about P1/),
      expect.stringMatching(/^\S+\s+rule\s+system:test\s+Rule 'Tag Acme drafts' created by ops-1 \(v1\).*; condition: resource\.payload\.vendor == 'Acme'$/),
      expect.stringMatching(/^2026-11-30T09:00:01\.000Z\s+execution\s+rule:r-why\s+Rule 'Tag Acme drafts' \(v1\) runs tag_product on P1 \(product\.drafted\)$/)
    ])
    const json = JSON.parse((await runCli(["why", shop, executionId, "--json"], env)).stdout)
    expect(json.execution_id).toBe(executionId)
    expect(json.chain.map((l: { kind: string; type: string }) => [l.kind, l.type])).toEqual([
      ["origin", "operator.emit"],
      ["trigger", "trigger.received"],
      ["rule", "rule.created"],
      ["execution", "autoaction.requested"]
    ])
    expect(json.chain[2].id).toBe("r-why@v1")
    expectUserError(await runCli(["why", shop, "no-such-execution"], env), /cli-why\.myshopify\.com has no execution no-such-execution/)

    // not applied (it never ran): refused with the reason, nothing sent to the actor
    const undo = await runCli(["executions", "undo", shop, executionId, "--json"], env)
    expect(undo.code).toBe(1)
    expect(JSON.parse(undo.stdout)).toMatchObject({ id: executionId, status: "refused", code: "not_applied" })
    expect(undo.stderr).toMatch(/cannot be undone \(not_applied\): only an applied execution can be undone/)
    expectUserError(await runCli(["executions", "undo", shop, "no-such-execution"], env), /has no execution no-such-execution/)
    expect(await queued(url, shop)).toEqual([])
  })
})

describe("on the embedded database", () => {
  it("no worker can run while the command holds the database: the change is queued at once, and says so", async () => {
    const shop = "cli-embedded.myshopify.com"
    const env = cliEnv({ dataDir: join(dir, "data") })
    const r = await runCli(["rules", "create", shop, "--file", file("embedded.json", exampleRuleJson)], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^queued: create rule [0-9a-f-]{36} .*the embedded database is this command's while it runs, so no worker is running now\.$/m)
    const messages = await withEmbedded(join(dir, "data"), Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return yield* sql<{ message: { type: string } }>`SELECT message FROM shop_log WHERE shop = ${shop}`
    }))
    expect(messages.map((m) => m.message.type)).toEqual(["automation.rule_command"])
  })
})
