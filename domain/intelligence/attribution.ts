/**
 * Multi-touch attribution: how much of each conversion (and of its revenue) each channel
 * earned, by seven models side by side — five heuristic ones that split each conversion over its
 * own touches, and two global ones (Markov removal effect, Shapley value) that learn from all
 * journeys at once.
 *
 * Conventions (they decide the numbers):
 * - **Counted touches.** Touches are sorted by time (stable: equal times keep their given order).
 *   For a conversion, a touch counts when `conversion.at − lookbackMs ≤ at ≤ conversion.at`
 *   (both ends inclusive; `lookbackMs` default 30 days). A converting journey with no counted
 *   touch is one `direct` touch at the conversion. A non-converting journey's window ends at its
 *   latest touch; one without touches is ignored. Touches at a non-finite time never count; a
 *   non-finite revenue counts as 0.
 * - **First / last touch:** 100 % to the earliest / latest counted touch.
 * - **Linear:** an equal share per touch, so a channel with two touches gets two shares.
 * - **Time decay:** a touch weighs `2^(−Δt / halfLifeMs)`, Δt = conversion time − touch time,
 *   half-life default 7 days; weights normalised per conversion (computed relative to the latest
 *   touch, which normalising cancels, so very old touches never underflow every weight to 0).
 * - **Position-based:** 40 % first, 40 % last, 20 % evenly over the middle touches; two touches
 *   50/50; one touch 100 %.
 * - **Markov** (first order, removal effect): states `(start)`, one per channel, `(conversion)`,
 *   `(null)`. Transitions are counted over converting and non-converting journeys' counted
 *   touches: `(start)` → first channel, each consecutive pair (a repeated channel is a
 *   self-transition, kept), last channel → `(conversion)` or `(null)`; probabilities are counts
 *   normalised per source state. P(conv) is the absorption probability into `(conversion)` from
 *   `(start)`, solved exactly ((I − Q)x = r by Gaussian elimination with partial pivoting);
 *   states that cannot reach an absorbing state are found by reachability first and dropped
 *   (their absorption probability is 0), so the system is never singular. Removing channel c
 *   redirects every transition into c to `(null)`; `RE(c) = 1 − P(conv | c removed) / P(conv)`,
 *   clamped to [0, 1]. Credit of c = conversions × RE(c)/ΣRE, revenue likewise. No conversion:
 *   every credit 0. ΣRE = 0 with conversions (not reachable with counted paths, kept as a
 *   guard): linear credits.
 * - **Shapley:** players are the channels of converting journeys; v(S) = the number (for
 *   revenue: the revenue) of converting journeys whose set of channels is a subset of S. Exact
 *   with bitmasks up to 15 channels, above that the mean of marginal contributions over
 *   `shapleySamples` (default 2,000) random orders from a seeded PRNG (mulberry32,
 *   `shapleySeed`), so it is deterministic. Credits are φ; they sum to v(N) by efficiency.
 * - Every model's credits sum to the number of converting journeys and to their revenue (up to
 *   floating point); no credit is negative for non-negative revenue; no NaN.
 *
 * Pure and total: no I/O, no clock, no global randomness; nothing throws.
 */
import { DIRECT } from "./channels.ts"

export interface Touch {
  readonly channel: string
  /** Epoch milliseconds. */
  readonly at: number
}

export interface Journey {
  /** E.g. an order id, or a visitor key for a non-converting journey. */
  readonly id: string
  /** Any order; sorted by `at` (stable) inside. */
  readonly touches: ReadonlyArray<Touch>
  /** Null: a journey that did not convert. */
  readonly conversion: { readonly at: number; readonly revenue: number } | null
}

export const MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"] as const
export type ModelName = typeof MODELS[number]
/** The models that split a conversion using its own journey only. */
export type HeuristicModel = Exclude<ModelName, "markov" | "shapley">

/** Channel → share of one conversion; the shares sum to 1. */
export type Shares = Readonly<Record<string, number>>
export interface ChannelCredit {
  readonly conversions: number
  readonly revenue: number
}
/** Channel → its credit under one model; channels sorted by name. */
export type ModelCredits = Readonly<Record<string, ChannelCredit>>

export interface AttributionOptions {
  /** Touches older than this before the conversion do not count; default 30 days. */
  readonly lookbackMs?: number
  /** Time decay's half-life; default 7 days. */
  readonly halfLifeMs?: number
  /** Random orders for Monte Carlo Shapley; default 2,000. */
  readonly shapleySamples?: number
  /** Seed of Monte Carlo Shapley's PRNG; default 1. */
  readonly shapleySeed?: number
  /** Up to this many channels Shapley is exact (0–20); default 15. 0 forces sampling. */
  readonly shapleyExactMax?: number
}

const DAY_MS = 86_400_000
export const DEFAULT_LOOKBACK_MS = 30 * DAY_MS
export const DEFAULT_HALF_LIFE_MS = 7 * DAY_MS
export const DEFAULT_SHAPLEY_SAMPLES = 2_000
export const DEFAULT_SHAPLEY_SEED = 1
export const DEFAULT_SHAPLEY_EXACT_MAX = 15

interface Settings {
  readonly lookbackMs: number
  readonly halfLifeMs: number
  readonly samples: number
  readonly seed: number
  readonly exactMax: number
}

/** Out-of-range or NaN options fall back to the defaults (Infinity is a valid window or half-life). */
const settings = (o: AttributionOptions = {}): Settings => ({
  lookbackMs: o.lookbackMs !== undefined && o.lookbackMs >= 0 ? o.lookbackMs : DEFAULT_LOOKBACK_MS,
  halfLifeMs: o.halfLifeMs !== undefined && o.halfLifeMs > 0 ? o.halfLifeMs : DEFAULT_HALF_LIFE_MS,
  samples: o.shapleySamples !== undefined && Number.isFinite(o.shapleySamples) && o.shapleySamples >= 1
    ? Math.floor(o.shapleySamples)
    : DEFAULT_SHAPLEY_SAMPLES,
  seed: o.shapleySeed !== undefined && Number.isFinite(o.shapleySeed) ? o.shapleySeed >>> 0 : DEFAULT_SHAPLEY_SEED,
  exactMax: o.shapleyExactMax !== undefined && o.shapleyExactMax >= 0
    ? Math.min(20, Math.floor(o.shapleyExactMax))
    : DEFAULT_SHAPLEY_EXACT_MAX
})

const revenueOf = (j: Journey): number => j.conversion !== null && Number.isFinite(j.conversion.revenue) ? j.conversion.revenue : 0

const distinct = (channels: Iterable<string>): ReadonlyArray<string> => [...new Set(channels)]

/**
 * The touches that count for a journey, sorted by time (stable): within the lookback window and
 * not after the conversion; a lone `direct` touch at the conversion when none does. For a
 * non-converting journey, the window ends at its latest touch (and no touch gives `[]`).
 */
export const countedTouches = (j: Journey, options?: AttributionOptions): ReadonlyArray<Touch> => {
  const { lookbackMs } = settings(options)
  const sorted = j.touches.filter((t) => Number.isFinite(t.at)).sort((a, b) => a.at - b.at)
  if (j.conversion === null) {
    const end = sorted.at(-1)?.at
    return end === undefined ? [] : sorted.filter((t) => t.at >= end - lookbackMs)
  }
  const end = j.conversion.at
  const counted = sorted.filter((t) => t.at <= end && t.at >= end - lookbackMs)
  return counted.length > 0 ? counted : [{ channel: DIRECT, at: end }]
}

/** Per-touch weights → per-channel shares summing to 1 (channels in order of first touch). */
const sharesOf = (touches: ReadonlyArray<Touch>, weights: ReadonlyArray<number>): Shares => {
  const total = weights.reduce((s, w) => s + w, 0)
  const shares = new Map<string, number>()
  touches.forEach((t, i) => shares.set(t.channel, (shares.get(t.channel) ?? 0) + weights[i] / total))
  return Object.fromEntries(shares)
}

const touchWeights = (model: HeuristicModel, touches: ReadonlyArray<Touch>, halfLifeMs: number): ReadonlyArray<number> => {
  const n = touches.length
  switch (model) {
    case "first_touch":
      return touches.map((_, i) => (i === 0 ? 1 : 0))
    case "last_touch":
      return touches.map((_, i) => (i === n - 1 ? 1 : 0))
    case "linear":
      return touches.map(() => 1)
    case "time_decay": {
      const latest = touches[n - 1].at
      return touches.map((t) => 2 ** (-(latest - t.at) / halfLifeMs))
    }
    case "position_based":
      return n === 1 ? [1] : n === 2 ? [0.5, 0.5] : touches.map((_, i) => (i === 0 || i === n - 1 ? 0.4 : 0.2 / (n - 2)))
  }
}

/**
 * How one heuristic model splits a journey's conversion over the channels of its counted
 * touches: shares summing to 1 (`{}` for a non-converting journey, which has nothing to split).
 */
export const journeyShares = (model: HeuristicModel, j: Journey, options?: AttributionOptions): Shares => {
  if (j.conversion === null) return {}
  const touches = countedTouches(j, options)
  return sharesOf(touches, touchWeights(model, touches, settings(options).halfLifeMs))
}

/**
 * Per-order credits for the global models: one conversion split over the distinct channels of
 * the journey's own counted touches in proportion to their global weight (a model's credits,
 * say); linear when every weight there is 0. Shares sum to 1 (`{}` for a non-converting
 * journey). Missing, negative or non-finite weights count as 0.
 */
export const sharesFromWeights = (j: Journey, weights: Readonly<Record<string, number>>, options?: AttributionOptions): Shares => {
  if (j.conversion === null) return {}
  const channels = distinct(countedTouches(j, options).map((t) => t.channel))
  const w = channels.map((c) => {
    const x = Object.hasOwn(weights, c) ? weights[c] : 0
    return Number.isFinite(x) && x > 0 ? x : 0
  })
  if (w.every((x) => x === 0)) return journeyShares("linear", j, options)
  return sharesOf(channels.map((channel) => ({ channel, at: 0 })), w)
}

/** Sums per-channel conversions and revenue; every channel of `universe` present; sorted by name. */
const creditsOf = (
  entries: Iterable<readonly [string, number, number]>,
  universe: Iterable<string> = []
): ModelCredits => {
  const sums = new Map<string, { conversions: number; revenue: number }>()
  for (const c of universe) sums.set(c, { conversions: 0, revenue: 0 })
  for (const [c, conversions, revenue] of entries) {
    const s = sums.get(c) ?? { conversions: 0, revenue: 0 }
    sums.set(c, { conversions: s.conversions + conversions, revenue: s.revenue + revenue })
  }
  return Object.fromEntries([...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * A journey as the models read it: its counted touches worked out once (the whole history is
 * read by seven models; each working them out again cost time and, at a million touches,
 * hundreds of megabytes of short-lived arrays).
 */
interface Counted {
  readonly touches: ReadonlyArray<Touch>
  readonly converted: boolean
  readonly revenue: number
}

const prepare = (journeys: ReadonlyArray<Journey>, options?: AttributionOptions): ReadonlyArray<Counted> =>
  journeys.map((j) => ({ touches: countedTouches(j, options), converted: j.conversion !== null, revenue: revenueOf(j) }))

/** Sums one model's shares of every converting journey, channel by channel, without intermediate rows. */
const heuristicCreditsOf = (model: HeuristicModel, counted: ReadonlyArray<Counted>, halfLifeMs: number): ModelCredits => {
  const sums = new Map<string, [number, number]>()
  for (const j of counted) {
    if (!j.converted) continue
    const weights = touchWeights(model, j.touches, halfLifeMs)
    let total = 0
    for (const w of weights) total += w
    j.touches.forEach((t, i) => {
      const share = weights[i]! / total
      const sum = sums.get(t.channel)
      if (sum === undefined) sums.set(t.channel, [share, share * j.revenue])
      else {
        sum[0] += share
        sum[1] += share * j.revenue
      }
    })
  }
  return creditsOf([...sums].map(([c, [conversions, revenue]]) => [c, conversions, revenue] as const))
}

/** Every channel of any journey's counted touches: the rows each model reports, zero or not. */
const channelsOf = (counted: ReadonlyArray<Counted>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  for (const j of counted) for (const t of j.touches) seen.add(t.channel)
  return [...seen]
}

// ---------------------------------------------------------------------------------------------
// Markov

/** Transition counts between transient states (0 = `(start)`, k = channel k−1) and into the absorbing ones. */
interface Chain {
  readonly channels: ReadonlyArray<string>
  readonly toTransient: ReadonlyArray<ReadonlyArray<number>>
  readonly toConversion: ReadonlyArray<number>
  readonly toNull: ReadonlyArray<number>
}

const chainOf = (paths: ReadonlyArray<Counted>): Chain => {
  const channels = channelsOf(paths).toSorted()
  const index = new Map(channels.map((c, i) => [c, i + 1]))
  const size = channels.length + 1
  const toTransient = Array.from({ length: size }, () => new Array<number>(size).fill(0))
  const toConversion = new Array<number>(size).fill(0)
  const toNull = new Array<number>(size).fill(0)
  for (const { touches, converted } of paths) {
    let last = 0
    for (const t of touches) {
      const next = index.get(t.channel)!
      toTransient[last][next] += 1
      last = next
    }
    if (converted) toConversion[last] += 1
    else toNull[last] += 1
  }
  return { channels, toTransient, toConversion, toNull }
}

/**
 * Solves A x = b by Gaussian elimination with partial pivoting. A (near-)zero pivot leaves its
 * variable at 0 rather than producing NaN (not reached for pruned absorbing chains).
 */
const solve = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<number>): ReadonlyArray<number> => {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i]])
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r
    if (Math.abs(m[pivot][col]) < 1e-12) continue
    ;[m[col], m[pivot]] = [m[pivot], m[col]]
    const p = m[col]
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / p[col]
      if (f !== 0) for (let k = col; k <= n; k++) m[r][k] -= f * p[k]
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    const row = m[r]
    if (Math.abs(row[r]) < 1e-12) continue
    let s = row[n]
    for (let k = r + 1; k < n; k++) s -= row[k] * x[k]
    x[r] = s / row[r]
  }
  return x
}

/** Absorption probability into `(conversion)` from `(start)`, with channel state `removed` (or none) removed. */
const conversionProbability = (chain: Chain, removed: number | null): number => {
  const size = chain.toConversion.length
  const live = (i: number) => i !== removed
  // Per state: total outgoing count; transitions into the removed state go to (null), so they
  // stay in the total but leave Q.
  const totals = chain.toTransient.map((row, i) => row.reduce((s, c) => s + c, 0) + chain.toConversion[i] + chain.toNull[i])
  const absorbs = (i: number) => chain.toConversion[i] + chain.toNull[i] > 0 || (removed !== null && chain.toTransient[i][removed] > 0)
  // States that can reach an absorbing state: backwards from those with a direct transition.
  const reaches = new Array<boolean>(size).fill(false)
  for (let i = 0; i < size; i++) reaches[i] = live(i) && absorbs(i)
  for (let changed = true; changed;) {
    changed = false
    for (let i = 0; i < size; i++) {
      if (reaches[i] || !live(i)) continue
      if (chain.toTransient[i].some((c, j) => c > 0 && reaches[j])) {
        reaches[i] = true
        changed = true
      }
    }
  }
  if (!reaches[0]) return 0
  const states = [...Array(size).keys()].filter((i) => reaches[i])
  const a = states.map((i) => states.map((j) => (i === j ? 1 : 0) - chain.toTransient[i][j] / totals[i]))
  const r = states.map((i) => chain.toConversion[i] / totals[i])
  const p = solve(a, r)[0]
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0
}

export interface MarkovResult {
  /** P(conversion) from `(start)` of the full chain. */
  readonly conversionProbability: number
  /** Channel → removal effect, in [0, 1]. */
  readonly removalEffects: Readonly<Record<string, number>>
  readonly credits: ModelCredits
}

/**
 * First-order Markov attribution by removal effect, over every journey (non-converting ones
 * shape the chain too). Credits sum to the converting journeys' count and revenue, none
 * negative; exact (a linear solve, not simulation) and deterministic.
 */
export const markov = (journeys: ReadonlyArray<Journey>, options?: AttributionOptions): MarkovResult =>
  markovOf(prepare(journeys, options), settings(options).halfLifeMs)

const markovOf = (counted: ReadonlyArray<Counted>, halfLifeMs: number): MarkovResult => {
  const chain = chainOf(counted.filter((j) => j.touches.length > 0))
  const p = conversionProbability(chain, null)
  const effects = chain.channels.map((_, k) => {
    if (p <= 0) return 0
    const re = 1 - conversionProbability(chain, k + 1) / p
    return Number.isFinite(re) ? Math.min(1, Math.max(0, re)) : 0
  })
  const removalEffects = Object.fromEntries(chain.channels.map((c, k) => [c, effects[k]]))
  let conversions = 0
  let totalRevenue = 0
  for (const j of counted) {
    if (!j.converted) continue
    conversions += 1
    totalRevenue += j.revenue
  }
  const sumRe = effects.reduce((s, e) => s + e, 0)
  const credits = conversions === 0
    ? creditsOf([], chain.channels)
    : sumRe > 0
    ? creditsOf(chain.channels.map((c, k) => [c, conversions * effects[k] / sumRe, totalRevenue * effects[k] / sumRe] as const))
    : creditsOf(Object.entries(heuristicCreditsOf("linear", counted, halfLifeMs)).map(([c, v]) => [c, v.conversions, v.revenue] as const), chain.channels)
  return { conversionProbability: p, removalEffects, credits }
}

// ---------------------------------------------------------------------------------------------
// Shapley

/** mulberry32: a small, fast, seeded PRNG in [0, 1). */
const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Converting journeys grouped by their set of channels (player indices). */
interface Coalition {
  readonly players: ReadonlyArray<number>
  readonly conversions: number
  readonly revenue: number
}

const exactShapley = (n: number, coalitions: ReadonlyArray<Coalition>): readonly [ReadonlyArray<number>, ReadonlyArray<number>] => {
  const size = 1 << n
  const vc = new Float64Array(size)
  const vr = new Float64Array(size)
  for (const c of coalitions) {
    const mask = c.players.reduce((m, i) => m | (1 << i), 0)
    vc[mask] += c.conversions
    vr[mask] += c.revenue
  }
  // Sum over subsets: v(S) = Σ_{T ⊆ S} (journeys whose set is exactly T).
  for (let b = 0; b < n; b++) {
    for (let m = 0; m < size; m++) {
      if (m & (1 << b)) {
        vc[m] += vc[m ^ (1 << b)]
        vr[m] += vr[m ^ (1 << b)]
      }
    }
  }
  // |S|!(n−|S|−1)!/n! = 1 / (n · C(n−1, |S|))
  const weight = new Float64Array(n)
  for (let s = 0, binom = 1; s < n; s++) {
    weight[s] = 1 / (n * binom)
    binom = binom * (n - 1 - s) / (s + 1)
  }
  const popcount = new Uint8Array(size)
  for (let m = 1; m < size; m++) popcount[m] = popcount[m >> 1] + (m & 1)
  const phiC = new Array<number>(n).fill(0)
  const phiR = new Array<number>(n).fill(0)
  for (let i = 0; i < n; i++) {
    const bit = 1 << i
    let c = 0
    let r = 0
    for (let s = 0; s < size; s++) {
      if (s & bit) continue
      const w = weight[popcount[s]]
      c += w * (vc[s | bit] - vc[s])
      r += w * (vr[s | bit] - vr[s])
    }
    phiC[i] = c
    phiR[i] = r
  }
  return [phiC, phiR]
}

/**
 * Mean marginal contribution over random orders. A coalition's journeys count for the player
 * whose arrival completes their channel set, so every order hands out exactly v(N).
 */
const sampledShapley = (
  n: number,
  coalitions: ReadonlyArray<Coalition>,
  samples: number,
  seed: number
): readonly [ReadonlyArray<number>, ReadonlyArray<number>] => {
  const random = mulberry32(seed)
  const memberOf: Array<Array<number>> = Array.from({ length: n }, () => [])
  coalitions.forEach((c, g) => c.players.forEach((p) => memberOf[p].push(g)))
  const sizes = Int32Array.from(coalitions, (c) => c.players.length)
  const phiC = new Array<number>(n).fill(0)
  const phiR = new Array<number>(n).fill(0)
  const order = Array.from({ length: n }, (_, i) => i)
  for (let s = 0; s < samples; s++) {
    for (let i = n - 1; i > 0; i--) {
      const k = Math.floor(random() * (i + 1))
      ;[order[i], order[k]] = [order[k], order[i]]
    }
    const missing = sizes.slice()
    for (const p of order) {
      for (const g of memberOf[p]) {
        if (--missing[g] === 0) {
          phiC[p] += coalitions[g].conversions
          phiR[p] += coalitions[g].revenue
        }
      }
    }
  }
  return [phiC.map((x) => x / samples), phiR.map((x) => x / samples)]
}

export interface ShapleyResult {
  readonly credits: ModelCredits
  /** False when the value was estimated by sampling (more channels than `shapleyExactMax`). */
  readonly exact: boolean
}

/**
 * Shapley-value attribution of the converting journeys (a channel seen only in non-converting
 * journeys is listed with 0). Credits sum to the conversions and their revenue (efficiency);
 * exact up to `shapleyExactMax` channels, else a deterministic seeded Monte Carlo estimate.
 */
export const shapley = (journeys: ReadonlyArray<Journey>, options?: AttributionOptions): ShapleyResult =>
  shapleyOf(prepare(journeys, options), settings(options))

const shapleyOf = (counted: ReadonlyArray<Counted>, o: Settings): ShapleyResult => {
  const sets = counted.filter((j) => j.converted).map((j) => ({ channels: distinct(j.touches.map((t) => t.channel)), revenue: j.revenue }))
  const players = distinct(sets.flatMap((s) => s.channels)).toSorted()
  const index = new Map(players.map((c, i) => [c, i]))
  const groups = new Map<string, { players: ReadonlyArray<number>; conversions: number; revenue: number }>()
  for (const s of sets) {
    const ids = s.channels.map((c) => index.get(c)!).toSorted((a, b) => a - b)
    const key = ids.join(",")
    const g = groups.get(key) ?? { players: ids, conversions: 0, revenue: 0 }
    groups.set(key, { ...g, conversions: g.conversions + 1, revenue: g.revenue + s.revenue })
  }
  const n = players.length
  const exact = n <= o.exactMax
  const [phiC, phiR] = exact ? exactShapley(n, [...groups.values()]) : sampledShapley(n, [...groups.values()], o.samples, o.seed)
  return {
    credits: creditsOf(players.map((c, i) => [c, phiC[i], phiR[i]] as const), channelsOf(counted)),
    exact
  }
}

/**
 * All seven models side by side: heuristic ones over the converting journeys, Markov over all
 * journeys, Shapley over the converting ones. Each model lists every channel seen in any
 * journey (0 where it earned nothing), and its credits sum to the conversions and revenue.
 */
export const attribute = (journeys: ReadonlyArray<Journey>, options?: AttributionOptions): Readonly<Record<ModelName, ModelCredits>> => {
  const o = settings(options)
  const counted = prepare(journeys, options)
  const seen = channelsOf(counted)
  const withAll = (credits: ModelCredits): ModelCredits =>
    creditsOf(Object.entries(credits).map(([c, v]) => [c, v.conversions, v.revenue] as const), seen)
  const heuristic = (model: HeuristicModel) => withAll(heuristicCreditsOf(model, counted, o.halfLifeMs))
  return {
    first_touch: heuristic("first_touch"),
    last_touch: heuristic("last_touch"),
    linear: heuristic("linear"),
    time_decay: heuristic("time_decay"),
    position_based: heuristic("position_based"),
    markov: withAll(markovOf(counted, o.halfLifeMs).credits),
    shapley: withAll(shapleyOf(counted, o).credits)
  }
}
