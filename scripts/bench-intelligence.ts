/**
 * `npm run bench:intelligence` (issue 13 §7), the pure part: the math over a shop's whole history,
 * in one process, as the read side runs it.
 * - Attribution: BENCH_TOUCHES (default 1,000,000) touches over BENCH_CUSTOMERS (10,000)
 *   customers and BENCH_ORDERS (100,000) orders across 90 days, 9 channels; the journeys are built
 *   (each order takes its customer's touches of the 30 days before it; touches no order used form
 *   the non-converting journeys), then all seven models over the whole history (target < 10 s).
 * - SEO detectors: BENCH_PAGES (10,000) pages × 90 days of Search Console rows (one query per
 *   page and day), content decay, opportunities, cannibalism, keyword gaps and snippet changes.
 * Prints the times and the peak RSS (target < 500 MB); a measurement, not a test.
 * Then the live path, order webhook → `sales.attribution_computed` committed (target p95 < 1 s),
 * through the actors, the projection and the emitter on a real PostgreSQL
 * (`scripts/bench/attribution-live.ts`; BENCH_LIVE=0 skips it).
 */
import { attribute, type Journey, type Touch } from "../domain/intelligence/attribution.ts"
import { cannibalism, contentDecay, keywordGaps, opportunities, type SearchRow, snippetChanges } from "../domain/intelligence/seoDetectors.ts"

const TOUCHES = Number(process.env["BENCH_TOUCHES"] ?? 1_000_000)
const CUSTOMERS = Number(process.env["BENCH_CUSTOMERS"] ?? 10_000)
const ORDERS = Number(process.env["BENCH_ORDERS"] ?? 100_000)
const PAGES = Number(process.env["BENCH_PAGES"] ?? 10_000)
const DAY = 86_400_000
const START = Date.parse("2026-09-01T00:00:00Z")
const SPAN = 90 * DAY
const CHANNELS = ["email", "organic_search", "paid_search_google", "paid_social_meta", "paid_social_tiktok", "social", "referral", "direct", "partnerblog"]

let seed = 42
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
let peakRss = 0
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}
const time = <A>(label: string, f: () => A): A => {
  const t0 = performance.now()
  const out = f()
  sample()
  console.log(`${label.padEnd(58)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(8)} s`)
  return out
}

// Each part in a function of its own: its fixture is garbage once it returns, so the peak is the
// larger part's, not the sum of both.
const benchAttribution = () => {
  const touchesByCustomer: Array<Array<Touch>> = Array.from({ length: CUSTOMERS }, () => [])
  time(`generate ${TOUCHES.toLocaleString()} touches`, () => {
    for (let i = 0; i < TOUCHES; i++) {
      const c = Math.floor(random() * CUSTOMERS)
      touchesByCustomer[c]!.push({ channel: CHANNELS[Math.floor(random() ** 1.5 * CHANNELS.length)]!, at: START + Math.floor(random() * SPAN) })
    }
    for (const t of touchesByCustomer) t.sort((a, b) => a.at - b.at)
  })
  const journeys = time(`build journeys (${ORDERS.toLocaleString()} orders, 30-day lookback)`, () => {
    const orders = Array.from({ length: ORDERS }, () => ({ customer: Math.floor(random() * CUSTOMERS), at: START + Math.floor(random() * SPAN), revenue: 20 + Math.floor(random() * 200) }))
      .sort((a, b) => a.at - b.at)
    const used: Array<Uint8Array> = touchesByCustomer.map((t) => new Uint8Array(t.length))
    const out: Array<Journey> = orders.map((o, i) => {
      const all = touchesByCustomer[o.customer]!
      const touches: Array<Touch> = []
      for (let k = 0; k < all.length; k++) {
        const t = all[k]!
        if (t.at > o.at) break
        if (t.at >= o.at - 30 * DAY) {
          touches.push(t)
          used[o.customer]![k] = 1
        }
      }
      return { id: `o${i}`, touches, conversion: { at: o.at, revenue: o.revenue } }
    })
    touchesByCustomer.forEach((all, c) => {
      const loose = all.filter((_, k) => used[c]![k] === 0)
      if (loose.length > 0) out.push({ id: `v${c}`, touches: loose, conversion: null })
    })
    return out
  })
  const credits = time("all seven models over the whole history", () => attribute(journeys))
  const total = Object.values(credits.markov).reduce((s, c) => s + c.conversions, 0)
  console.log(`  journeys ${journeys.length.toLocaleString()}, markov credits sum ${total.toFixed(3)} (orders ${ORDERS.toLocaleString()}), peak RSS so far ${(peakRss / 1024 / 1024).toFixed(0)} MB`)
}

const benchSeo = () => {
  const rows: Array<SearchRow> = []
  // one string per page, query and day, as a client decoding a day's report holds them
  const pages = Array.from({ length: PAGES }, (_, p) => `https://bench.example/pages/p${p}`)
  const queries = Array.from({ length: Math.ceil(PAGES / 2) }, (_, q) => `query ${q}`)
  const dates = Array.from({ length: 90 }, (_, d) => new Date(START + d * DAY).toISOString().slice(0, 10))
  time(`generate ${PAGES.toLocaleString()} pages × 90 days of Search Console rows`, () => {
    for (let p = 0; p < PAGES; p++) {
      const base = 5 + Math.floor(random() * 200)
      const decays = random() < 0.05
      for (let d = 0; d < 90; d++) {
          const clicks = Math.max(0, Math.round(base * (decays && d >= 76 ? 0.5 : 1) * (0.8 + random() * 0.4)))
        rows.push({ date: dates[d]!, page: pages[p]!, query: queries[p % (PAGES / 2)]!, clicks, impressions: clicks * 20, position: 3 + random() * 20, searchAppearance: null })
      }
    }
  })
  const asOf = new Date(START + 89 * DAY).toISOString().slice(0, 10)
  const window = { from: new Date(START + 62 * DAY).toISOString().slice(0, 10), to: asOf }
  const previous = { from: new Date(START + 34 * DAY).toISOString().slice(0, 10), to: new Date(START + 61 * DAY).toISOString().slice(0, 10) }
  const decayed = time("content decay (14 days vs the 14 before)", () => contentDecay(rows, asOf))
  time("opportunities, cannibalism, keyword gaps (28 days)", () => [opportunities(rows, window), cannibalism(rows, window), keywordGaps(rows, window)])
  time("snippet changes (28 days vs the 28 before)", () => snippetChanges(rows, previous, window))
  console.log(`  decayed pages ${decayed.length.toLocaleString()}`)
}

benchAttribution()
// a full collection between the parts (`--expose-gc`), so the second starts from the first's floor
;(globalThis as { gc?: () => void }).gc?.()
benchSeo()
sample()
console.log(`peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB (node ${process.version}, ${(await import("node:os")).cpus().length} cores)`)

if (process.env["BENCH_LIVE"] !== "0") {
  const { runAttributionLiveBench } = await import("./bench/attribution-live.ts")
  await runAttributionLiveBench()
}
