/**
 * `sumeru rules list|show|create|enable|disable|delete|backtest <shop> …`: a shop's automation
 * rules, as the admin API manages them (issue 11 §2, §6).
 *
 * - Reads fold the shop's `rules-<shop>` stream (`readRules`): a change just applied is there.
 * - `create` takes the admin API's snake_case JSON (what `POST /app/rules` takes) from a file and
 *   validates it the same way — trigger catalog, action registry, the shop's plan and time zone,
 *   the CEL checker — listing every problem with its field; an invalid rule publishes nothing.
 * - Every change goes to the shop's actor, the single writer (`submitRuleCommand`), and the
 *   command waits, bounded, for its outcome. No answer in time (no worker running — always the
 *   case on the embedded database, which this command holds while it runs) is not a failure:
 *   the change is queued on the shop's log and applied when a worker next runs (exit 0,
 *   `{"status":"pending"}`).
 * - `backtest` is `POST /app/rules/:id/backtest`: the rule replayed over the shop's recorded
 *   triggers in a window, calling nothing.
 */
import { Effect, FileSystem, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { type ExistingRule, type RuleCommand, validateRule } from "../../../domain/automation/Rules.ts"
import { backtestRule } from "../../automation/Backtests.ts"
import { conditionProblems } from "../../automation/Conditions.ts"
import { readRules, type RuleOutcome, submitRuleCommand } from "../../automation/RuleCommands.ts"
import { shopAutomationContext } from "../../automation/ShopDefaults.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { CliFailure, fail } from "../errors.ts"
import { operatorLabel, outcomeWait, queuedNotice } from "../operator.ts"
import { printJson, printLine, renderTable } from "../output.ts"
import { timestampFlag } from "../time.ts"

const shopArgument = Argument.String("shop").pipe(Argument.withDescription("The shop (example.myshopify.com)"))
const ruleIdArgument = Argument.String("rule-id").pipe(Argument.withDescription("The rule's id (see `sumeru rules list`)"))
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON (the admin API's shapes)"), Flag.withDefault(false))
const waitFlag = Flag.Int("wait").pipe(
  Flag.filterMap((n) => (n >= 0 ? Option.some(n) : Option.none()), () => "a non-negative number of seconds"),
  Flag.withDescription("Seconds to wait for the shop's actor to apply the change, then leave it queued (none on the embedded database: no worker can run meanwhile)"),
  Flag.withDefault(10)
)

/** A rule as the admin API shows it (snake_case), and whether it is deleted (`list --all`). */
export const ruleJson = (r: ExistingRule) => ({
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
  enabled: r.enabled,
  deleted: r.deleted
})

const statusOf = (r: ExistingRule): string => (r.deleted ? "deleted" : r.enabled ? "enabled" : "disabled")

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** The shop's rule `ruleId`; a deleted one only when `deleted` allows it. */
const findRule = (shop: string, ruleId: string, options: { readonly deleted: boolean }) =>
  Effect.gen(function*() {
    const { rules } = yield* readRules(shop)
    const rule = rules[ruleId]
    if (rule === undefined) return yield* fail(`${shop} has no rule ${ruleId} (see \`sumeru rules list ${shop}\`)`)
    if (rule.deleted && !options.deleted) return yield* fail(`rule ${ruleId} of ${shop} was deleted (at version ${rule.version})`)
    return rule
  })

// ---------------------------------------------------------------------------
// reads
// ---------------------------------------------------------------------------

const list = Command.make(
  "list",
  {
    shop: shopArgument,
    all: Flag.Boolean("all").pipe(Flag.withDescription("Include deleted rules"), Flag.withDefault(false)),
    json: jsonFlag
  },
  ({ all, json, shop }) =>
    withCore(Effect.gen(function*() {
      const { rules } = yield* readRules(shop.toLowerCase())
      const rows = Object.values(rules).filter((r) => all || !r.deleted).sort((a, b) => a.ruleId.localeCompare(b.ruleId))
      if (json) return yield* printJson({ rules: rows.map(ruleJson) })
      if (rows.length === 0) return yield* printLine("no rules")
      yield* printLine(renderTable<ExistingRule>([
        { header: "ID", value: (r) => r.ruleId },
        { header: "VER", value: (r) => String(r.version), align: "right" },
        { header: "STATUS", value: statusOf },
        { header: "TRIGGER", value: (r) => r.triggerEvent },
        { header: "ACTION", value: (r) => r.actionKey },
        { header: "NAME", value: (r) => r.name }
      ], rows))
    }))
).pipe(Command.withDescription("The shop's rules, oldest first (ids are time-ordered)"))

const show = Command.make(
  "show",
  { shop: shopArgument, ruleId: ruleIdArgument, json: jsonFlag },
  ({ json, ruleId, shop }) =>
    withCore(Effect.gen(function*() {
      const rule = yield* findRule(shop.toLowerCase(), ruleId, { deleted: true })
      if (json) return yield* printJson({ rule: ruleJson(rule) })
      const { timeZone } = yield* shopAutomationContext(shop.toLowerCase())
      const lines: ReadonlyArray<readonly [string, string]> = [
        ["rule", `${rule.ruleId} (version ${rule.version}, ${statusOf(rule)})`],
        ["name", rule.name],
        ["trigger", rule.triggerEvent],
        ["action", rule.actionKey],
        ["params", JSON.stringify(rule.params)],
        ["condition", rule.condition ?? "none (always)"],
        ["cooldown", rule.cooldownSeconds === 0 ? "none" : `${rule.cooldownSeconds} s per resource`],
        ["quiet hours", rule.quietHours === null ? "none" : `${rule.quietHours.start}–${rule.quietHours.end} (${timeZone})`],
        ["approval", rule.requiresApproval ? "required" : "not required"]
      ]
      for (const [label, value] of lines) yield* printLine(`${label.padEnd(12)} ${value}`)
    }))
).pipe(Command.withDescription("One rule's settings"))

// ---------------------------------------------------------------------------
// changes, through the shop's actor
// ---------------------------------------------------------------------------

/** Runs a change with the core and the shop log (where the actor's messages go). */
const withShopLog = <A, E, R>(effect: Effect.Effect<A, E, R>) => withCore(Effect.provide(effect, ShopLogLayer.layerFromConfig))

/** Sends `command` to the shop's actor and says how it ended: applied, refused, or queued. */
const submit = (
  shop: string,
  command: RuleCommand,
  applied: (rule: ExistingRule | undefined) => boolean,
  options: { readonly wait: number; readonly json: boolean; readonly queued: string; readonly done: (rule: ExistingRule) => string }
) =>
  Effect.gen(function*() {
    const outcome: RuleOutcome = yield* submitRuleCommand(shop, command, operatorLabel(), applied, yield* outcomeWait(options.wait)).pipe(
      Effect.catchTag("ShopLogUnavailable", (e) => fail(`cannot publish to the shop's log: ${e.message}`))
    )
    switch (outcome._tag) {
      case "Applied":
        return yield* options.json ? printJson({ status: "applied", rule: ruleJson(outcome.rule) }) : printLine(options.done(outcome.rule))
      case "Pending":
        return yield* options.json ? printJson({ status: "pending", rule_id: command.ruleId }) : printLine(yield* queuedNotice(options.queued))
      case "Rejected":
        if (options.json) yield* printJson({ status: "rejected", rule_id: command.ruleId, code: outcome.code, reason: outcome.reason })
        return yield* fail(`the shop's actor refused the change (${outcome.code}): ${outcome.reason}`)
    }
  })

const create = Command.make(
  "create",
  {
    shop: shopArgument,
    file: Flag.File("file", { mustExist: true }).pipe(
      Flag.withDescription(
        "The rule as JSON, exactly what POST /app/rules takes: { name, trigger_event, action_key, params, condition, cooldown_seconds, quiet_hours, requires_approval, enabled }"
      )
    ),
    wait: waitFlag,
    json: jsonFlag
  },
  ({ file, json, shop: given, wait }) =>
    Effect.gen(function*() {
      const shop = given.toLowerCase()
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs.readFileString(file).pipe(Effect.catch((e) => fail(`cannot read ${file}: ${e.message}`)))
      const body = yield* Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: (e) => new CliFailure({ message: `${file} is not JSON: ${e instanceof Error ? e.message : String(e)}` })
      })
      yield* withShopLog(Effect.gen(function*() {
        // the admin API's validation, on the shop as it stands (its plan and time zone)
        const checked = validateRule(body, { ...(yield* shopAutomationContext(shop)), checkCondition: conditionProblems })
        if (Result.isFailure(checked)) {
          if (json) yield* printJson({ status: "invalid", errors: checked.failure })
          return yield* fail(
            `${file} is not a valid rule (${plural(checked.failure.length, "problem")}); nothing was changed`,
            checked.failure.map((p) => `${p.field === "" ? "(the document)" : p.field}: ${p.message}`)
          )
        }
        const spec = checked.success
        const ruleId = uuidV7Unsafe()
        yield* submit(shop, { type: "CreateRule", ruleId, spec }, (r) => r !== undefined, {
          wait,
          json,
          queued: `create rule ${ruleId} ("${spec.name}") in ${shop}`,
          done: (r) => `created rule ${r.ruleId} ("${r.name}", version ${r.version}, ${statusOf(r)})`
        })
      }))
    })
).pipe(
  Command.withDescription("Create a rule from a JSON file (the admin API's POST /app/rules body)"),
  Command.withExamples([{
    command: "sumeru rules create example.myshopify.com --file rule.json",
    description: "rule.json: {\"name\":\"Tag drafted products\",\"trigger_event\":\"product.drafted\",\"action_key\":\"tag_product\",\"params\":{\"tags\":[\"needs-review\"]},\"enabled\":true}"
  }])
)

const toggle = (enable: boolean) =>
  Command.make(
    enable ? "enable" : "disable",
    { shop: shopArgument, ruleId: ruleIdArgument, wait: waitFlag, json: jsonFlag },
    ({ json, ruleId, shop: given, wait }) =>
      withShopLog(Effect.gen(function*() {
        const shop = given.toLowerCase()
        const rule = yield* findRule(shop, ruleId, { deleted: false })
        const state = enable ? "enabled" : "disabled"
        // nothing to decide: the actor would append nothing, and no new version would show
        if (rule.enabled === enable) {
          return yield* json
            ? printJson({ status: "unchanged", rule: ruleJson(rule) })
            : printLine(`rule ${ruleId} is already ${state} (version ${rule.version})`)
        }
        yield* submit(shop, { type: enable ? "EnableRule" : "DisableRule", ruleId }, (r) => r?.enabled === enable, {
          wait,
          json,
          queued: `${enable ? "enable" : "disable"} rule ${ruleId} of ${shop}`,
          done: (r) => `${state} rule ${r.ruleId} (version ${r.version})`
        })
      }))
  ).pipe(Command.withDescription(enable ? "Enable a rule (dispatch runs it)" : "Disable a rule (dispatch skips it; its settings stay)"))

const remove = Command.make(
  "delete",
  { shop: shopArgument, ruleId: ruleIdArgument, wait: waitFlag, json: jsonFlag },
  ({ json, ruleId, shop: given, wait }) =>
    withShopLog(Effect.gen(function*() {
      const shop = given.toLowerCase()
      yield* findRule(shop, ruleId, { deleted: false })
      yield* submit(shop, { type: "DeleteRule", ruleId }, (r) => r?.deleted === true, {
        wait,
        json,
        queued: `delete rule ${ruleId} of ${shop}`,
        done: (r) => `deleted rule ${r.ruleId} (version ${r.version}; its history stays on the shop's rules stream)`
      })
    }))
).pipe(Command.withDescription("Delete a rule (a new version; its history and executions stay)"))

// ---------------------------------------------------------------------------
// backtest
// ---------------------------------------------------------------------------

const MAX_BACKTEST_DAYS = 366

const backtest = Command.make(
  "backtest",
  {
    shop: shopArgument,
    ruleId: ruleIdArgument,
    from: timestampFlag("from").pipe(Flag.withDescription("The window's start (ISO-8601; UTC unless an offset is given)")),
    to: timestampFlag("to").pipe(Flag.withDescription("The window's end (ISO-8601; UTC unless an offset is given)")),
    json: jsonFlag
  },
  ({ from, json, ruleId, shop: given, to }) =>
    Effect.gen(function*() {
      const shop = given.toLowerCase()
      if (from.getTime() >= to.getTime()) return yield* fail(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`)
      if (to.getTime() - from.getTime() > MAX_BACKTEST_DAYS * 86_400_000) return yield* fail(`the window is at most ${MAX_BACKTEST_DAYS} days`)
      yield* withCore(Effect.gen(function*() {
        const rule = yield* findRule(shop, ruleId, { deleted: false })
        const result = yield* backtestRule(shop, rule, { from, to })
        const fires = result.fires.map((f) => ({
          resource_id: f.resourceId,
          resource_type: f.resourceType,
          at: new Date(f.at).toISOString(),
          trigger_id: f.triggerId,
          kind: f.kind
        }))
        if (json) return yield* printJson({ rule_id: ruleId, fires, skipped: result.skipped, events_scanned: result.eventsScanned })
        yield* printLine(
          `rule ${ruleId} ("${rule.name}", version ${rule.version}) from ${from.toISOString()} to ${to.toISOString()}: ` +
            `${plural(result.eventsScanned, "trigger")} scanned, ${plural(fires.length, "fire")}`
        )
        if (fires.length > 0) {
          yield* printLine(renderTable<typeof fires[number]>([
            { header: "AT", value: (f) => f.at },
            { header: "RESOURCE", value: (f) => f.resource_id },
            { header: "TYPE", value: (f) => f.resource_type },
            { header: "KIND", value: (f) => f.kind },
            { header: "TRIGGER", value: (f) => f.trigger_id }
          ], fires))
        }
        const skips = Object.entries(result.skipped).sort(([a], [b]) => a.localeCompare(b))
        yield* printLine(`skipped: ${skips.length === 0 ? "none" : skips.map(([reason, n]) => `${reason} ${n}`).join(", ")}`)
      }))
    })
).pipe(
  Command.withDescription("What the rule would have done over a window of the shop's recorded triggers (calls nothing)"),
  Command.withExamples([{
    command: "sumeru rules backtest example.myshopify.com 0199c3a0-… --from 2026-11-01 --to 2026-12-01",
    description: "Fires and skips of November"
  }])
)

export const rulesCommand = Command.make("rules").pipe(
  Command.withDescription("A shop's automation rules: list, show, create, enable, disable, delete, backtest"),
  Command.withSubcommands([list, show, create, toggle(true), toggle(false), remove, backtest])
)
