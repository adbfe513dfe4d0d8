/**
 * The AI gateway's usage for operators and analysts (issue 14 §2):
 * - `sumeru ai usage --shop S [--from D --to D] [--format table|csv|jsonl]`: every call of the
 *   period (UTC dates, both included; the last 30 days by default) — `table` sums it per provider
 *   and model and per purpose; `csv` / `jsonl` list the calls, streamed in constant memory;
 * - `sumeru ai budget --shop S`: the shop's budget months (cap, spent, held by calls running,
 *   alerts sent), from the gateway's ledger.
 */
import { Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { budgetMonths, type UsageCall, type UsageGroup, usageRowsStream, usageSummary } from "../../../adapters/postgres/AiUsageReads.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { quietOnBrokenPipe, renderTable, writeStdout } from "../output.ts"

const DAY_MS = 86_400_000
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const usd = (micros: number) => `$${(micros / 1_000_000).toFixed(4)}`

const CSV_COLUMNS = ["call_id", "started_at", "month", "purpose", "capability", "outcome", "provider", "model", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "estimated_micros", "settled_micros", "latency_ms", "attempts"] as const

const csvField = (v: unknown): string => {
  const s = v === null || v === undefined ? "" : typeof v === "object" && !(v instanceof Date) ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
}

export const usageLine = (r: UsageCall, format: "csv" | "jsonl"): string =>
  format === "csv"
    ? `${CSV_COLUMNS.map((c) => csvField(r[c])).join(",")}\n`
    : `${JSON.stringify({ ...r, started_at: new Date(r.started_at).toISOString() })}\n`

const groupTable = (title: string, rows: ReadonlyArray<UsageGroup>) =>
  `${title}\n${
    renderTable<UsageGroup>([
      { header: "", value: (g) => g.key },
      { header: "calls", value: (g) => String(g.calls), align: "right" },
      { header: "ok", value: (g) => String(g.ok), align: "right" },
      { header: "refused", value: (g) => String(g.rate_limited + g.budget_exceeded), align: "right" },
      { header: "failed", value: (g) => String(g.failed), align: "right" },
      { header: "input", value: (g) => String(g.input_tokens), align: "right" },
      { header: "cached", value: (g) => String(g.cached_input_tokens), align: "right" },
      { header: "output", value: (g) => String(g.output_tokens), align: "right" },
      { header: "cost", value: (g) => usd(g.settled_micros), align: "right" }
    ], rows)
  }\n`

const period = (o: { readonly from: Option.Option<string>; readonly to: Option.Option<string> }) => {
  const to = Option.getOrElse(o.to, () => new Date().toISOString().slice(0, 10))
  const from = Option.getOrElse(o.from, () => new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS).toISOString().slice(0, 10))
  const problems = ([["from", from], ["to", to]] as const).flatMap(([k, v]) =>
    ISO_DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v ? [] : [`--${k} must be a date such as 2026-11-01`]
  )
  if (problems.length === 0 && from > to) problems.push("--from is after --to")
  return { from, to, problems }
}

const usageCommand = Command.make(
  "usage",
  {
    shop: Flag.String("shop").pipe(Flag.withDescription("The shop (e.g. example.myshopify.com)")),
    from: Flag.String("from").pipe(Flag.withDescription("First day, UTC (YYYY-MM-DD); default 30 days before --to"), Flag.optional),
    to: Flag.String("to").pipe(Flag.withDescription("Last day, UTC (YYYY-MM-DD), included; default today"), Flag.optional),
    format: Flag.Literals("format", ["table", "csv", "jsonl"]).pipe(Flag.withDescription("table (sums), csv or jsonl (every call)"), Flag.withDefault("table"))
  },
  (o) =>
    Effect.gen(function*() {
      const p = period(o)
      if (p.problems.length > 0) return yield* fail("the period is not valid", p.problems)
      const from = new Date(`${p.from}T00:00:00Z`)
      const until = new Date(Date.parse(`${p.to}T00:00:00Z`) + DAY_MS)
      yield* withCore(quietOnBrokenPipe(Effect.gen(function*() {
        if (o.format === "table") {
          const s = yield* usageSummary(o.shop, from, until)
          const t = s.totals
          yield* writeStdout(
            `AI usage of ${o.shop}, ${p.from} to ${p.to}: ${t.calls} calls (${t.ok} answered, ${t.rate_limited} rate-limited, ${t.budget_exceeded} over budget, ${t.failed} failed), ${usd(t.settled_micros)}\n\n` +
              groupTable("per provider and model", s.byModel) + "\n" + groupTable("per purpose", s.byPurpose)
          )
          return
        }
        if (o.format === "csv") yield* writeStdout(`${CSV_COLUMNS.join(",")}\n`)
        const format = o.format
        yield* usageRowsStream(o.shop, from, until).pipe(Stream.runForEachArray((batch) => writeStdout(batch.map((r) => usageLine(r, format)).join(""))))
      })))
    })
).pipe(
  Command.withDescription("The AI gateway's calls of a period: sums per model and purpose, or every call (csv, jsonl)"),
  Command.withExamples([
    { command: "sumeru ai usage --shop example.myshopify.com", description: "The last 30 days, summed" },
    { command: "sumeru ai usage --shop example.myshopify.com --from 2026-11-01 --to 2026-11-30 --format csv > ai-november.csv", description: "Every call of November" }
  ])
)

const budgetCommand = Command.make(
  "budget",
  { shop: Flag.String("shop").pipe(Flag.withDescription("The shop (e.g. example.myshopify.com)")) },
  (o) =>
    withCore(quietOnBrokenPipe(Effect.gen(function*() {
      const months = yield* budgetMonths(o.shop)
      yield* writeStdout(months.length === 0 ? `${o.shop} has made no AI call yet\n` : `${renderTable([
        { header: "month", value: (m: (typeof months)[number]) => m.month },
        { header: "cap", value: (m) => usd(m.cap_micros), align: "right" },
        { header: "spent", value: (m) => usd(m.settled_micros), align: "right" },
        { header: "%", value: (m) => (m.cap_micros > 0 ? ((m.settled_micros / m.cap_micros) * 100).toFixed(1) : "–"), align: "right" },
        { header: "running", value: (m) => usd(m.reserved_micros), align: "right" },
        { header: "alerts", value: (m) => [m.alerted_80 ? "80 %" : "", m.alerted_100 ? "100 %" : ""].filter((x) => x !== "").join(", ") }
      ], months)}\n`)
    })))
).pipe(Command.withDescription("The shop's AI budget months: cap, spent, held by calls running, alerts sent"))

export const aiCommand = Command.make("ai").pipe(
  Command.withDescription("The AI gateway: usage and budget"),
  Command.withSubcommands([usageCommand, budgetCommand])
)
