/**
 * Predictive customer lifetime value: how many more purchases a customer will make and what they
 * will be worth, from nothing but their order history.
 *
 * - **RFM summary** — per customer: repeat purchases `x`, the time of the last one `t_x`, the age
 *   of the customer `T` (all since the first purchase), and the mean value of the repeat purchases.
 * - **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way") — while alive,
 *   a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after each repeat purchase they
 *   drop out for good with probability p ~ Beta(a, b). Fitted by maximum likelihood; gives the
 *   conditional expectation of purchases in the next `t` units and the probability of being alive.
 * - **Gamma-Gamma** (Fader & Hardie 2013) — each purchase's value is Gamma(p, ν), ν ~ Gamma(q, v)
 *   per customer, independent of the purchase process; gives a customer's expected purchase value
 *   shrunk from their observed mean towards the population's.
 *
 * Pure and total: invalid inputs (non-finite or non-positive parameters, a recency after the
 * customer's age, …) give `null` or are left out of a fit and counted, never a `NaN` or a throw.
 * The fits precompute per-customer constants and group customers by `x`, so a likelihood
 * evaluation costs a few logarithms per customer and a fit of thousands of customers takes
 * milliseconds.
 */
import type { CustomerOrder } from "./cohorts.ts"
import { nelderMead } from "./optimize.ts"

/** Milliseconds in a day: the default time unit and the granularity of a "purchase". */
export const DAY_MS = 86_400_000

// --- special functions ---------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
] as const
const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI)

/**
 * ln |Γ(z)| (Lanczos, g = 7, nine terms; about 15 significant digits), the building block of
 * every likelihood here. +∞ at the poles (0, −1, −2, …); reflection for z < ½.
 */
export const lnGamma = (z: number): number => {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? Number.NaN : Number.POSITIVE_INFINITY
  if (z < 0.5) {
    const s = Math.sin(Math.PI * z)
    if (s === 0) return Number.POSITIVE_INFINITY
    return Math.log(Math.PI / Math.abs(s)) - lnGamma(1 - z)
  }
  const w = z - 1
  let sum = LANCZOS[0]
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (w + i)
  const t = w + 7.5
  return HALF_LN_2PI + (w + 0.5) * Math.log(t) - t + Math.log(sum)
}

/** Most terms {@link hypergeometric2F1} sums before giving up (enough for z ≤ 1 − 10⁻⁵). */
const MAX_SERIES_TERMS = 5_000_000
const SERIES_EPSILON = 1e-16
const RESCALE = 1e200
const LN_RESCALE = Math.log(RESCALE)

/**
 * ₂F₁ as sign × exp(logAbs). The leading 1 is kept apart from the rest of the series, so that
 * ln ₂F₁ = log1p(rest) keeps full relative precision when the rest is tiny (small z), and both
 * are rescaled together so huge intermediate terms never overflow.
 */
const hypergeometricSeries = (a: number, b: number, c: number, z: number): { readonly sign: number; readonly logAbs: number } | null => {
  if (![a, b, c, z].every(Number.isFinite) || Math.abs(z) >= 1) return null
  if (c <= 0 && Number.isInteger(c)) return null
  let term = 1
  let one = 1
  let rest = 0
  let logScale = 0
  const result = () => {
    const sum = one + rest
    if (sum === 0) return { sign: 0, logAbs: Number.NEGATIVE_INFINITY }
    const logAbs = logScale === 0 && rest > -1 ? Math.log1p(rest) : Math.log(Math.abs(sum)) + logScale
    return { sign: Math.sign(sum), logAbs }
  }
  for (let n = 0; n < MAX_SERIES_TERMS; n++) {
    term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z
    rest += term
    if (Math.abs(rest) > RESCALE) {
      one /= RESCALE
      rest /= RESCALE
      term /= RESCALE
      logScale += LN_RESCALE
    }
    // Bound on the tail after term m = n + 1: once m exceeds −a, −b and −c, each of
    // (a+k)/(1+k) and (b+k)/(c+k) moves monotonically towards 1 for k ≥ m, so every later
    // term ratio is at most ρ = |z|·max(1, |(a+m)/(1+m)|)·max(1, |(b+m)/(c+m)|), and the tail
    // is at most |term_m|·ρ/(1 − ρ). A terminating series (a or b a non-positive integer) stops
    // on its zero term.
    const m = n + 1
    if (term === 0) return result()
    if (m + a > 0 && m + b > 0 && m + c > 0) {
      const rho = Math.abs(z) * Math.max(1, (a + m) / (1 + m)) * Math.max(1, (b + m) / (c + m))
      // Relative to the rest of the series, not to 1 + rest: log1p(rest) keeps its precision.
      const scale = Math.max(Math.abs(rest), 1e-6 * Math.abs(one + rest))
      if (rho < 1 && (Math.abs(term) * rho) / (1 - rho) <= SERIES_EPSILON * scale) return result()
    }
  }
  return null
}

/**
 * The Gaussian hypergeometric function ₂F₁(a, b; c; z) = Σₙ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ, which the
 * BG/NBD conditional expectation needs. Summed term by term until a rigorous bound on the rest of
 * the series falls below 10⁻¹⁶ of the terms after the leading 1 (so ln ₂F₁ stays precise even
 * when ₂F₁ is within a hair of 1, as that expectation needs). Valid for |z| < 1 (the series'
 * disc of convergence) and c not 0, −1, −2, …; it needs about ln(10⁻¹⁶)/ln|z| terms, so it
 * gives up (`null`) past five million — for z beyond about 1 − 10⁻⁵. `null` also for non-finite
 * arguments or |z| ≥ 1; the value itself may be ±∞ only if it exceeds the float range.
 */
export const hypergeometric2F1 = (a: number, b: number, c: number, z: number): number | null => {
  const s = hypergeometricSeries(a, b, c, z)
  return s === null ? null : s.sign * Math.exp(s.logAbs)
}

/** ln(eᵃ + eᵇ) without overflow. */
const logAddExp = (x: number, y: number): number => {
  const hi = Math.max(x, y)
  if (hi === Number.NEGATIVE_INFINITY) return hi
  return hi + Math.log1p(Math.exp(Math.min(x, y) - hi))
}

/** ln(1 + eˣ) without overflow. */
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)))

const positive = (v: number): boolean => Number.isFinite(v) && v > 0

// --- RFM summaries -------------------------------------------------------------------------

/**
 * What the models know of a customer: their purchase history reduced to its sufficient
 * statistics. Times are in the summary's unit (a day by default) and measured from the first
 * purchase, which is not itself counted.
 */
export interface CustomerSummary {
  readonly customerId: string
  /** Frequency: repeat purchases (distinct purchase days − 1). */
  readonly x: number
  /** Recency: time of the last purchase since the first (0 when `x` = 0). */
  readonly t_x: number
  /** Age: `asOf` − the first purchase. */
  readonly T: number
  /** Mean revenue of the repeat purchases (a purchase day's orders summed); 0 when `x` = 0. */
  readonly monetary: number
}

/** The purchase-process part of a summary, all BG/NBD reads. */
export interface PurchaseHistory {
  readonly x: number
  readonly t_x: number
  readonly T: number
}

/** The spend part of a summary, all Gamma-Gamma reads. */
export interface SpendHistory {
  readonly x: number
  readonly monetary: number
}

/** What {@link summarize} is computed as of, and in what unit. */
export interface SummarizeOptions {
  /** Epoch ms: orders after it are not seen; customers' ages are measured to it. */
  readonly asOf: number
  /** Length of the time unit of `t_x` and `T`, ms. Default {@link DAY_MS}. */
  readonly unitMs?: number
}

/**
 * The RFM summary of every customer with an order at or before `asOf`, sorted by customer id.
 *
 * A purchase is a UTC calendar day with orders (several orders the same day are one purchase,
 * their revenues summed), as the BG/NBD model counts "transactions"; a purchase happens at the
 * time of its day's first order. Guarantees: `x` is a non-negative integer, 0 ≤ `t_x` ≤ `T`,
 * `t_x` = 0 when `x` = 0, `monetary` is 0 when `x` = 0. Orders with a non-finite time or
 * revenue are ignored; a non-finite `asOf` or a unit that is not a positive finite number gives
 * no summaries.
 */
export const summarize = (orders: ReadonlyArray<CustomerOrder>, options: SummarizeOptions): ReadonlyArray<CustomerSummary> => {
  const { asOf } = options
  const unit = options.unitMs ?? DAY_MS
  if (!Number.isFinite(asOf) || !positive(unit)) return []
  const byCustomer = new Map<string, Map<number, { at: number; revenue: number }>>()
  for (const o of orders) {
    if (!Number.isFinite(o.at) || !Number.isFinite(o.revenue) || o.at > asOf) continue
    let days = byCustomer.get(o.customerId)
    if (days === undefined) {
      days = new Map()
      byCustomer.set(o.customerId, days)
    }
    const day = Math.floor(o.at / DAY_MS)
    const p = days.get(day)
    if (p === undefined) days.set(day, { at: o.at, revenue: o.revenue })
    else {
      p.at = Math.min(p.at, o.at)
      p.revenue += o.revenue
    }
  }
  const out: Array<CustomerSummary> = []
  for (const [customerId, days] of byCustomer) {
    const purchases = [...days.values()].sort((p, q) => p.at - q.at)
    const first = purchases[0]!
    const last = purchases[purchases.length - 1]!
    const x = purchases.length - 1
    let repeatRevenue = 0
    for (let i = 1; i < purchases.length; i++) repeatRevenue += purchases[i]!.revenue
    out.push({
      customerId,
      x,
      t_x: (last.at - first.at) / unit,
      T: (asOf - first.at) / unit,
      monetary: x === 0 ? 0 : repeatRevenue / x
    })
  }
  return out.sort((p, q) => (p.customerId < q.customerId ? -1 : p.customerId > q.customerId ? 1 : 0))
}

// --- BG/NBD --------------------------------------------------------------------------------

/**
 * BG/NBD parameters: purchase rates λ ~ Gamma(shape r, rate α) (α in the summaries' time unit),
 * dropout probabilities p ~ Beta(a, b). All four positive.
 */
export interface BgNbdParams {
  readonly r: number
  readonly alpha: number
  readonly a: number
  readonly b: number
}

const validBgNbd = (p: BgNbdParams): boolean => positive(p.r) && positive(p.alpha) && positive(p.a) && positive(p.b)

/** A history the BG/NBD model can have produced: finite, x ≥ 0, 0 ≤ t_x ≤ T. */
const validHistory = (h: PurchaseHistory): boolean =>
  Number.isFinite(h.x) && Number.isFinite(h.t_x) && Number.isFinite(h.T) && h.x >= 0 && h.t_x >= 0 && h.t_x <= h.T

/** Customers grouped by `x`, with their recencies and ages, ready for repeated likelihoods. */
interface PreparedHistories {
  readonly customers: number
  readonly groups: ReadonlyArray<{ readonly x: number; readonly tx: Float64Array; readonly T: Float64Array }>
  readonly totalX: number
  readonly totalT: number
}

const prepareHistories = (histories: ReadonlyArray<PurchaseHistory>): PreparedHistories => {
  const byX = new Map<number, Array<PurchaseHistory>>()
  let customers = 0
  let totalX = 0
  let totalT = 0
  for (const h of histories) {
    if (!validHistory(h)) continue
    customers++
    totalX += h.x
    totalT += h.T
    const g = byX.get(h.x)
    if (g === undefined) byX.set(h.x, [h])
    else g.push(h)
  }
  const groups = [...byX.entries()]
    .sort(([x], [y]) => x - y)
    .map(([x, hs]) => ({ x, tx: Float64Array.from(hs, (h) => h.t_x), T: Float64Array.from(hs, (h) => h.T) }))
  return { customers, groups, totalX, totalT }
}

/** Σ log-likelihood over prepared histories (`NaN`-free for valid parameters). */
const bgNbdPreparedLogLikelihood = (params: BgNbdParams, data: PreparedHistories): number => {
  const { r, alpha, a, b } = params
  const lnAlpha = Math.log(alpha)
  const lnA = Math.log(a)
  const common = -lnGamma(r) + r * lnAlpha + lnGamma(a + b) - lnGamma(b)
  let ll = data.customers * common
  for (const g of data.groups) {
    const x = g.x
    const n = g.T.length
    const s = r + x
    ll += n * (lnGamma(s) + lnGamma(b + x) - lnGamma(a + b + x))
    if (x === 0) {
      for (let i = 0; i < n; i++) ll -= s * Math.log(alpha + g.T[i]!)
    } else {
      const c4 = lnA - Math.log(b + x - 1)
      for (let i = 0; i < n; i++) ll += logAddExp(-s * Math.log(alpha + g.T[i]!), c4 - s * Math.log(alpha + g.tx[i]!))
    }
  }
  return ll
}

/**
 * The BG/NBD log-likelihood of the histories (FHL 2005's closed form A₁·A₂·(A₃ + δ₍ₓ>₀₎A₄), in
 * log space — ln A₁ + ln A₂ + ln(A₃ + δA₄), the last by log-sum-exp), summed. Histories the model cannot
 * produce are skipped; `null` for invalid parameters. Exported so a fit can be compared with
 * any other parameters on the same data.
 */
export const bgNbdLogLikelihood = (params: BgNbdParams, histories: ReadonlyArray<PurchaseHistory>): number | null => {
  if (!validBgNbd(params)) return null
  const ll = bgNbdPreparedLogLikelihood(params, prepareHistories(histories))
  return Number.isFinite(ll) ? ll : null
}

/** Options of the maximum-likelihood fits. */
export interface FitOptions {
  /**
   * L2 penalty on the log-parameters: the fit maximises LL − penalty · Σ (ln θ)², shrinking each
   * parameter towards 1 — a stabiliser for small or degenerate data. Default 0 (pure MLE).
   */
  readonly penalty?: number
  /** Iteration budget of the optimiser. Default 4000. */
  readonly maxIterations?: number
}

/** Options of {@link fitBgNbd}. */
export interface BgNbdFitOptions extends FitOptions {
  /** Where the search starts (an invalid one is replaced by the default). Default r = a = b = 1 and α matching the observed purchase rate. */
  readonly start?: BgNbdParams
}

/** A fitted BG/NBD model. */
export interface BgNbdFit {
  readonly params: BgNbdParams
  /** The (unpenalised) log-likelihood at `params`. */
  readonly logLikelihood: number
  readonly iterations: number
  /** The optimiser converged to a finite likelihood on at least one customer. */
  readonly converged: boolean
  /** Histories the fit used (the invalid ones are left out). */
  readonly customers: number
}

/** The negative penalised mean log-likelihood over log-parameters, the optimisers' objective. */
const objective =
  (logLikelihood: (theta: ReadonlyArray<number>) => number, customers: number, penalty: number) =>
  (theta: ReadonlyArray<number>): number => {
    let p = 0
    for (const t of theta) p += t * t
    return -(logLikelihood(theta) - penalty * p) / Math.max(1, customers)
  }

/**
 * Fits the BG/NBD model to customers' histories by maximum likelihood: Nelder–Mead over the
 * log-parameters, so the search never leaves the positive parameters. Guarantees: the result's
 * (penalised) likelihood is at least the start's (the optimiser only accepts improvements), `params` are
 * positive and finite, and `converged` is false with no valid history or when the optimiser ran
 * out of iterations. The time unit of α is that of the summaries.
 */
export const fitBgNbd = (histories: ReadonlyArray<PurchaseHistory>, options: BgNbdFitOptions = {}): BgNbdFit => {
  const data = prepareHistories(histories)
  const rate = data.totalX > 0 && data.totalT > 0 ? data.totalX / data.totalT : 1
  const start = options.start !== undefined && validBgNbd(options.start) ? options.start : { r: 1, alpha: 1 / rate, a: 1, b: 1 }
  const penalty = Math.max(0, options.penalty ?? 0)
  const fromTheta = (t: ReadonlyArray<number>): BgNbdParams => ({ r: Math.exp(t[0]!), alpha: Math.exp(t[1]!), a: Math.exp(t[2]!), b: Math.exp(t[3]!) })
  const theta0 = [Math.log(start.r), Math.log(start.alpha), Math.log(start.a), Math.log(start.b)]
  if (data.customers === 0) return { params: start, logLikelihood: 0, iterations: 0, converged: false, customers: 0 }

  const f = objective((t) => bgNbdPreparedLogLikelihood(fromTheta(t), data), data.customers, penalty)
  const result = nelderMead(f, theta0, { step: 0.5, maxIterations: options.maxIterations ?? 4000, fTolerance: 1e-13, xTolerance: 1e-7 })
  const params = fromTheta(result.x)
  const logLikelihood = bgNbdPreparedLogLikelihood(params, data)
  return { params, logLikelihood, iterations: result.iterations, converged: result.converged && validBgNbd(params) && Number.isFinite(logLikelihood), customers: data.customers }
}

/** E[Y(t) | x, t_x, T] by FHL eq. 10 with ₂F₁; `null` where the formula is singular or the series fails. */
const expectedPurchasesFormula = (r: number, alpha: number, a: number, b: number, t: number, h: PurchaseHistory): number | null => {
  const { x, t_x, T } = h
  const s = r + x
  const c = a + b + x - 1
  const z = t / (alpha + T + t)
  const lnU = -Math.log1p(t / (alpha + T)) // ln((α+T)/(α+T+t))
  const f = hypergeometricSeries(s, b + x, c, z)
  if (f === null || a === 1 || c === 0) return null
  // bracket = 1 − u^s · ₂F₁, as sign × exp(lnBracket), without cancellation or overflow.
  const L = s * lnU + f.logAbs
  let bracketSign: number
  let lnBracket: number
  if (f.sign <= 0) {
    bracketSign = 1
    lnBracket = f.sign === 0 ? 0 : softplus(L)
  } else if (L < 0) {
    bracketSign = 1
    lnBracket = Math.log(-Math.expm1(L))
  } else if (L > 0) {
    bracketSign = -1
    lnBracket = L > 30 ? L + Math.log1p(-Math.exp(-L)) : Math.log(Math.expm1(L))
  } else return 0
  const preSign = Math.sign(c) * Math.sign(a - 1)
  const lnPre = Math.log(Math.abs(c)) - Math.log(Math.abs(a - 1))
  const lnDen = x > 0 ? softplus(Math.log(a) - Math.log(b + x - 1) + s * (Math.log(alpha + T) - Math.log(alpha + t_x))) : 0
  const e = preSign * bracketSign * Math.exp(lnPre + lnBracket - lnDen)
  return Number.isFinite(e) ? Math.max(0, e) : null
}

/** How close to a = 1 (or to a + b + x = 1) eq. 10's removable singularity is bridged. */
const SINGULAR_BAND = 1e-6
const BRIDGE_STEP = 5e-5

/**
 * The expected number of purchases a customer with history (x, t_x, T) makes in the next `t`
 * units, E[Y(t) | x, t_x, T] (FHL 2005 eq. 10):
 *
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
 *     / [1 + δ₍ₓ>₀₎ · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)]
 *
 * The series of ₂F₁ converges because z = t/(α+T+t) < 1 always (α > 0, T ≥ 0); it is slow
 * only when t dwarfs α + T, and gives up (`null`) when z exceeds about 1 − 10⁻⁵. The formula's
 * 0/0 at a = 1 (and at a + b + x = 1) is removable: within 10⁻⁶ of it the value is the mean of
 * those at a ± 5·10⁻⁵, accurate to about 10⁻⁹ (next to it, cancellation costs about
 * 10⁻¹⁵/|a − 1| of relative precision). Guarantees: 0 for t ≤ 0, non-negative,
 * non-decreasing in t; `null` for invalid parameters or a history the model cannot produce.
 */
export const expectedPurchases = (params: BgNbdParams, t: number, history: PurchaseHistory): number | null => {
  if (!validBgNbd(params) || !validHistory(history) || Number.isNaN(t)) return null
  if (t <= 0) return 0
  if (!Number.isFinite(t)) return null
  const { r, alpha, a, b } = params
  const c = a + b + history.x - 1
  if (Math.abs(a - 1) >= SINGULAR_BAND && Math.abs(c) >= SINGULAR_BAND) return expectedPurchasesFormula(r, alpha, a, b, t, history)
  const hi = expectedPurchasesFormula(r, alpha, a + BRIDGE_STEP, b, t, history)
  const lo = a > BRIDGE_STEP ? expectedPurchasesFormula(r, alpha, a - BRIDGE_STEP, b, t, history) : null
  if (hi === null) return null
  if (lo !== null) return (hi + lo) / 2
  const hi2 = expectedPurchasesFormula(r, alpha, a + 2 * BRIDGE_STEP, b, t, history)
  return hi2 === null ? null : Math.max(0, 2 * hi - hi2)
}

/**
 * The probability that a customer with history (x, t_x, T) is still alive (has not dropped out)
 * at T: 1 / (1 + δ₍ₓ>₀₎ · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) (Fader, Hardie & Lee's note "Computing P(alive) using the BG/NBD model").
 * Guarantees: exactly 1 when x = 0 (in the BG/NBD a customer can only drop out right after a
 * repeat purchase), in (0, 1] otherwise, and non-increasing in T for fixed x and t_x (strictly
 * decreasing when x > 0, until it underflows to 0); `null` for invalid input.
 */
export const probabilityAlive = (params: BgNbdParams, history: PurchaseHistory): number | null => {
  if (!validBgNbd(params) || !validHistory(history)) return null
  const { r, alpha, a, b } = params
  const { x, t_x, T } = history
  if (x === 0) return 1
  const lnOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + t_x))
  return 1 / (1 + Math.exp(lnOdds))
}

// --- Gamma-Gamma ---------------------------------------------------------------------------

/**
 * Gamma-Gamma parameters: a purchase's value is Gamma(shape p, rate ν), the customer's ν ~
 * Gamma(shape q, rate v). All three positive; the population's mean purchase value p·v/(q − 1)
 * exists only for q > 1.
 */
export interface GammaGammaParams {
  readonly p: number
  readonly q: number
  readonly v: number
}

const validGammaGamma = (g: GammaGammaParams): boolean => positive(g.p) && positive(g.q) && positive(g.v)

/** A spend history the Gamma-Gamma model reads: at least one repeat purchase, a positive mean. */
const validSpend = (s: SpendHistory): boolean => Number.isFinite(s.x) && s.x >= 1 && positive(s.monetary)

interface PreparedSpend {
  readonly customers: number
  readonly groups: ReadonlyArray<{ readonly x: number; readonly lnX: number; readonly m: Float64Array; readonly sumLnM: number }>
  readonly meanM: number
}

const prepareSpend = (spends: ReadonlyArray<SpendHistory>): PreparedSpend => {
  const byX = new Map<number, Array<number>>()
  let customers = 0
  let total = 0
  for (const s of spends) {
    if (!validSpend(s)) continue
    customers++
    total += s.monetary
    const g = byX.get(s.x)
    if (g === undefined) byX.set(s.x, [s.monetary])
    else g.push(s.monetary)
  }
  const groups = [...byX.entries()]
    .sort(([x], [y]) => x - y)
    .map(([x, ms]) => ({ x, lnX: Math.log(x), m: Float64Array.from(ms), sumLnM: ms.reduce((acc, m) => acc + Math.log(m), 0) }))
  return { customers, groups, meanM: customers === 0 ? 0 : total / customers }
}

const gammaGammaPreparedLogLikelihood = (params: GammaGammaParams, data: PreparedSpend): number => {
  const { p, q, v } = params
  const lnV = Math.log(v)
  let ll = data.customers * (q * lnV - lnGamma(q))
  for (const g of data.groups) {
    const px = p * g.x
    const n = g.m.length
    ll += n * (lnGamma(px + q) - lnGamma(px) + px * g.lnX) + (px - 1) * g.sumLnM
    let s = 0
    for (let i = 0; i < n; i++) s += Math.log(g.x * g.m[i]! + v)
    ll -= (px + q) * s
  }
  return ll
}

/**
 * The Gamma-Gamma log-likelihood of customers' mean repeat-purchase values, summed: per customer
 * ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(x·m + v).
 * Customers without a repeat purchase or with a non-positive mean are skipped; `null` for
 * invalid parameters.
 */
export const gammaGammaLogLikelihood = (params: GammaGammaParams, spends: ReadonlyArray<SpendHistory>): number | null => {
  if (!validGammaGamma(params)) return null
  const ll = gammaGammaPreparedLogLikelihood(params, prepareSpend(spends))
  return Number.isFinite(ll) ? ll : null
}

/** Options of {@link fitGammaGamma}. */
export interface GammaGammaFitOptions extends FitOptions {
  /** Where the search starts (an invalid one is replaced by the default). Default p = 1, q = 2, v = the mean observed value (population mean = observed mean). */
  readonly start?: GammaGammaParams
}

/** A fitted Gamma-Gamma model. */
export interface GammaGammaFit {
  readonly params: GammaGammaParams
  readonly logLikelihood: number
  readonly iterations: number
  /**
   * The optimiser converged and q > 1. A fit with q ≤ 1 describes a population whose mean
   * purchase value is infinite: not a usable model, so it is reported as not converged.
   */
  readonly converged: boolean
  /** Customers the fit used: those with x ≥ 1 and a positive mean value. */
  readonly customers: number
}

/**
 * Fits the Gamma-Gamma spend model by maximum likelihood (Nelder–Mead over log-parameters) to the
 * customers with at least one repeat purchase and a positive mean value. Guarantees as for
 * {@link fitBgNbd}; additionally `converged` is false when the estimate has q ≤ 1. The model
 * assumes spend is independent of purchase frequency — check that before relying on it.
 */
export const fitGammaGamma = (spends: ReadonlyArray<SpendHistory>, options: GammaGammaFitOptions = {}): GammaGammaFit => {
  const data = prepareSpend(spends)
  const start = options.start !== undefined && validGammaGamma(options.start) ? options.start : { p: 1, q: 2, v: data.meanM > 0 ? data.meanM : 1 }
  const penalty = Math.max(0, options.penalty ?? 0)
  const fromTheta = (t: ReadonlyArray<number>): GammaGammaParams => ({ p: Math.exp(t[0]!), q: Math.exp(t[1]!), v: Math.exp(t[2]!) })
  if (data.customers === 0) return { params: start, logLikelihood: 0, iterations: 0, converged: false, customers: 0 }

  const f = objective((t) => gammaGammaPreparedLogLikelihood(fromTheta(t), data), data.customers, penalty)
  const theta0 = [Math.log(start.p), Math.log(start.q), Math.log(start.v)]
  const result = nelderMead(f, theta0, { step: 0.5, maxIterations: options.maxIterations ?? 4000, fTolerance: 1e-13, xTolerance: 1e-7 })
  const params = fromTheta(result.x)
  const logLikelihood = gammaGammaPreparedLogLikelihood(params, data)
  return {
    params,
    logLikelihood,
    iterations: result.iterations,
    converged: result.converged && validGammaGamma(params) && params.q > 1 && Number.isFinite(logLikelihood),
    customers: data.customers
  }
}

/**
 * A customer's expected purchase value, E[Z | x, m̄] = p(v + x·m̄)/(p·x + q − 1) — a weighted
 * mean of the population mean p·v/(q−1) and the customer's own mean m̄, the weight on m̄ growing
 * with x. With no repeat purchase (x = 0), or a mean that is not positive (refunds; outside the
 * model), it is the population mean. Requires q > 1 for the population mean (p·x + q > 1 for the
 * conditional one): `null` otherwise, as the mean is infinite, and for invalid parameters.
 */
export const expectedAverageValue = (params: GammaGammaParams, spend: SpendHistory): number | null => {
  if (!validGammaGamma(params) || !Number.isFinite(spend.x) || spend.x < 0) return null
  const { p, q, v } = params
  const informative = spend.x >= 1 && positive(spend.monetary)
  const x = informative ? spend.x : 0
  const m = informative ? spend.monetary : 0
  const shape = p * x + q - 1
  if (!(shape > 0)) return null
  const e = (p * (v + x * m)) / shape
  return Number.isFinite(e) ? e : null
}

// --- lifetime value ------------------------------------------------------------------------

/** The horizon and discounting of {@link customerLtv}. */
export interface LtvOptions {
  /** How far ahead, in the summaries' unit (e.g. 365 with daily units). */
  readonly horizon: number
  /** Annual discount rate (0.1 = 10 % a year). Default 0. Must exceed −1. */
  readonly discount?: number
  /** Length of the summaries' time unit, ms, to turn the annual rate into a per-unit one. Default {@link DAY_MS}. */
  readonly unitMs?: number
}

/** A customer's predicted value over a horizon. */
export interface CustomerLtv {
  /** E[purchases in the horizon] (undiscounted). */
  readonly expectedPurchases: number
  /** The same purchases each discounted to today (equal to `expectedPurchases` without a discount). */
  readonly discountedPurchases: number
  /** E[value of a purchase] (Gamma-Gamma; the population mean for customers with x = 0). */
  readonly expectedAverageValue: number
  /** `discountedPurchases × expectedAverageValue`. */
  readonly value: number
}

/**
 * A customer's predicted lifetime value over `horizon`: BG/NBD's expected purchases times
 * Gamma-Gamma's expected value per purchase (the two models are independent by assumption).
 * With a discount rate, purchases are discounted month by month (≈ 1/12 year steps; each step's
 * expected purchases at the factor (1 + rate)^(−years) of its midpoint). Guarantees: 0 for a
 * horizon ≤ 0; `null` when any part cannot be said (invalid parameters or history, a
 * non-finite horizon, a rate ≤ −1, q ≤ 1).
 */
export const customerLtv = (bg: BgNbdParams, gg: GammaGammaParams, summary: PurchaseHistory & SpendHistory, options: LtvOptions): CustomerLtv | null => {
  const { horizon } = options
  const discount = options.discount ?? 0
  const unit = options.unitMs ?? DAY_MS
  if (!Number.isFinite(horizon) || !Number.isFinite(discount) || discount <= -1 || !positive(unit)) return null
  const average = expectedAverageValue(gg, summary)
  const purchases = expectedPurchases(bg, Math.max(0, horizon), summary)
  if (average === null || purchases === null) return null
  let discounted = purchases
  if (discount !== 0 && horizon > 0) {
    const unitsPerYear = (365.25 * DAY_MS) / unit
    const steps = Math.max(1, Math.ceil(horizon / (unitsPerYear / 12)))
    const lnFactor = Math.log1p(discount)
    discounted = 0
    let previous = 0
    for (let k = 1; k <= steps; k++) {
      const at = (horizon * k) / steps
      const e = k === steps ? purchases : expectedPurchases(bg, at, summary)
      if (e === null) return null
      const middleYears = (horizon * (k - 0.5)) / steps / unitsPerYear
      discounted += (e - previous) * Math.exp(-lnFactor * middleYears)
      previous = e
    }
  }
  return { expectedPurchases: purchases, discountedPurchases: discounted, expectedAverageValue: average, value: discounted * average }
}
