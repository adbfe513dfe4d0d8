/**
 * `sumeru attribution export --shop S --from D --to D [--format csv|jsonl]`: every attributed
 * order of the period (UTC dates, both included) with its share per channel under each of the
 * five per-journey models — one line per order × model × channel — streamed to stdout in
 * constant memory (keyset-paginated reads, each batch written before the next is read). Markov and
 * Shapley credit a period, not an order: `GET /app/attribution` has them.
 */
import { Effect, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { type AttributedOrderRow, attributedOrders } from "../../../adapters/postgres/AttributionExport.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { quietOnBrokenPipe, writeStdout } from "../output.ts"

const DAY_MS = 86_400_000
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

const CSV_HEADER = "order_id,converted_at,currency,revenue,model,channel,share,revenue_credit"

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const csvField = (v: string | number): string => {
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
}

/** The lines of one order: one per model × channel. */
export const exportLines = (o: AttributedOrderRow, format: "csv" | "jsonl"): string => {
  let text = ""
  const at = new Date(o.converted_at).toISOString()
  for (const [model, shares] of Object.entries(o.credits)) {
    for (const [channel, share] of Object.entries(shares)) {
      const credit = Math.round(share * Number(o.revenue) * 1e6) / 1e6
      text += format === "csv"
        ? `${[o.order_id, at, o.currency, Number(o.revenue), model, channel, share, credit].map(csvField).join(",")}\n`
        : `${JSON.stringify({ order_id: o.order_id, converted_at: at, currency: o.currency, revenue: Number(o.revenue), model, channel, share, revenue_credit: credit })}\n`
    }
  }
  return text
}

const exportCommand = Command.make(
  "export",
  {
    shop: Flag.String("shop").pipe(Flag.withDescription("The shop (e.g. example.myshopify.com)")),
    from: Flag.String("from").pipe(Flag.withDescription("First day, UTC (YYYY-MM-DD)")),
    to: Flag.String("to").pipe(Flag.withDescription("Last day, UTC (YYYY-MM-DD), included")),
    format: Flag.Literals("format", ["csv", "jsonl"]).pipe(Flag.withDescription("csv (with a header) or jsonl"), Flag.withDefault("csv"))
  },
  (o) =>
    Effect.gen(function*() {
      const problems = (["from", "to"] as const).flatMap((k) =>
        ISO_DATE.test(o[k]) && new Date(`${o[k]}T00:00:00Z`).toISOString().slice(0, 10) === o[k] ? [] : [`--${k} must be a date such as 2026-11-01`]
      )
      if (problems.length === 0 && o.from > o.to) problems.push("--from is after --to")
      if (problems.length > 0) return yield* fail("the period is not valid", problems)
      const from = new Date(`${o.from}T00:00:00Z`)
      const until = new Date(Date.parse(`${o.to}T00:00:00Z`) + DAY_MS)
      yield* withCore(quietOnBrokenPipe(Effect.gen(function*() {
        if (o.format === "csv") yield* writeStdout(`${CSV_HEADER}\n`)
        yield* attributedOrders(o.shop, from, until).pipe(
          Stream.runForEachArray((batch) => writeStdout(batch.map((row) => exportLines(row, o.format)).join("")))
        )
      })))
    })
).pipe(
  Command.withDescription("Every attributed order of a period with its credit per channel under each per-journey model (constant memory)"),
  Command.withExamples([
    { command: "sumeru attribution export --shop example.myshopify.com --from 2026-11-01 --to 2026-11-30 > november.csv", description: "November as CSV" },
    { command: "sumeru attribution export --shop example.myshopify.com --from 2026-11-01 --to 2026-11-30 --format jsonl | duckdb", description: "As JSON lines" }
  ])
)

export const attributionCommand = Command.make("attribution").pipe(
  Command.withDescription("Multi-touch attribution for analysts"),
  Command.withSubcommands([exportCommand])
)
