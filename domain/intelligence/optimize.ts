/**
 * Derivative-free minimisation for the intelligence plane's model fits (BG/NBD, Gamma-Gamma):
 * the Nelder–Mead simplex method (Nelder & Mead 1965, in the form of Lagarias et al. 1998 —
 * reflection 1, expansion 2, contraction ½, shrink ½), restarted from its best point until a
 * restart no longer improves, which guards against the method's known false convergence on a
 * collapsed simplex.
 *
 * Pure and total: the objective is only ever called, never trusted — a `NaN` or an infinity it
 * returns ranks as +∞ (a point outside the model's domain), so it is never accepted as a minimum.
 * The simplex is local scratch; nothing the caller passes is mutated.
 */

/** Tuning for {@link nelderMead}; every field has a default that suits a handful of parameters. */
export interface NelderMeadOptions {
  /**
   * Edge of the starting simplex along each axis (one number for all, or one per coordinate).
   * Default 0.1 — for parameters on a log scale, about a 10 % change.
   */
  readonly step?: number | ReadonlyArray<number>
  /** Iterations (reflections, expansions, contractions or shrinks) across all restarts. Default 2000 × dimension. */
  readonly maxIterations?: number
  /** Converged when every vertex lies within this of the best, coordinate-wise. Default 1e-8. */
  readonly xTolerance?: number
  /** … and every vertex's value within `fTolerance × (1 + |best value|)` of the best. Default 1e-12. */
  readonly fTolerance?: number
  /** Fresh simplexes built around the best point after convergence, while they still improve. Default 3. */
  readonly maxRestarts?: number
}

/** What {@link nelderMead} found. */
export interface NelderMeadResult {
  /** The best point seen. */
  readonly x: ReadonlyArray<number>
  /** The objective at `x` (+∞ when no finite value was ever seen). */
  readonly value: number
  /** Iterations used, across restarts. */
  readonly iterations: number
  /** Objective evaluations used. */
  readonly evaluations: number
  /** True when the simplex met both tolerances (and a last restart found nothing better) within the budget, at a finite value. */
  readonly converged: boolean
}

const finiteOrInfinity = (v: number): number => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v)

/**
 * Minimises `f` from `x0` by the Nelder–Mead simplex method, so a model can be fitted by
 * maximum likelihood without derivatives. Guarantees: the result is the best point evaluated
 * (its value never exceeds `f(x0)`), `NaN`s never win, and the loop stops within
 * `maxIterations`. A local method: it finds *a* minimum near `x0`, so start it somewhere sensible.
 */
export const nelderMead = (
  f: (x: ReadonlyArray<number>) => number,
  x0: ReadonlyArray<number>,
  options: NelderMeadOptions = {}
): NelderMeadResult => {
  const n = x0.length
  const maxIterations = options.maxIterations ?? 2000 * Math.max(1, n)
  const xTol = options.xTolerance ?? 1e-8
  const fTol = options.fTolerance ?? 1e-12
  const maxRestarts = options.maxRestarts ?? 3
  const stepOf = (i: number): number => {
    const s = options.step
    const v = s === undefined ? 0.1 : typeof s === "number" ? s : (s[i] ?? 0.1)
    return Number.isFinite(v) && v !== 0 ? v : 0.1
  }
  let evaluations = 0
  const evaluate = (x: ReadonlyArray<number>): number => {
    evaluations++
    return finiteOrInfinity(f(x))
  }

  let best: ReadonlyArray<number> = x0.slice()
  let bestValue = evaluate(best)
  if (n === 0) return { x: best, value: bestValue, iterations: 0, evaluations, converged: Number.isFinite(bestValue) }

  let iterations = 0
  let converged = false
  for (let restart = 0; restart <= maxRestarts && iterations < maxIterations; restart++) {
    const run = simplexRun(evaluate, best, bestValue, stepOf, maxIterations - iterations, xTol, fTol)
    iterations += run.iterations
    const improved = run.value < bestValue - fTol * (1 + Math.abs(bestValue))
    if (run.value < bestValue) {
      best = run.x
      bestValue = run.value
    }
    converged = run.converged
    // A restart that converges without improving confirms the minimum; one that improves may have
    // escaped a collapsed simplex, so look again.
    if (!run.converged || (restart > 0 && !improved)) break
  }
  return { x: best, value: bestValue, iterations, evaluations, converged: converged && Number.isFinite(bestValue) }
}

/** One Nelder–Mead run from a fresh axis-aligned simplex around `x0`. */
const simplexRun = (
  evaluate: (x: ReadonlyArray<number>) => number,
  x0: ReadonlyArray<number>,
  f0: number,
  stepOf: (i: number) => number,
  budget: number,
  xTol: number,
  fTol: number
): { readonly x: ReadonlyArray<number>; readonly value: number; readonly iterations: number; readonly converged: boolean } => {
  const n = x0.length
  const points: Array<Array<number>> = [x0.slice()]
  const values: Array<number> = [f0]
  for (let i = 0; i < n; i++) {
    const p = x0.slice()
    p[i] = p[i]! + stepOf(i)
    points.push(p)
    values.push(evaluate(p))
  }
  const order = Array.from({ length: n + 1 }, (_, i) => i)
  const along = (from: ReadonlyArray<number>, to: ReadonlyArray<number>, t: number): Array<number> => from.map((c, j) => c + t * (to[j]! - c))

  let iterations = 0
  for (;;) {
    order.sort((i, j) => values[i]! - values[j]!)
    const b = order[0]!
    const w = order[n]!
    const bestValue = values[b]!
    let xSpread = 0
    let fSpread = 0
    for (let k = 1; k <= n; k++) {
      const i = order[k]!
      fSpread = Math.max(fSpread, Math.abs(values[i]! - bestValue))
      for (let j = 0; j < n; j++) xSpread = Math.max(xSpread, Math.abs(points[i]![j]! - points[b]![j]!))
    }
    // `fSpread` is NaN-free (values are never NaN); an infinite spread is simply not small.
    const done = xSpread <= xTol && fSpread <= fTol * (1 + Math.abs(bestValue))
    if (done || iterations >= budget) {
      return { x: points[b]!, value: bestValue, iterations, converged: done && Number.isFinite(bestValue) }
    }
    iterations++

    const centroid = new Array<number>(n).fill(0)
    for (let k = 0; k < n; k++) {
      const p = points[order[k]!]!
      for (let j = 0; j < n; j++) centroid[j] = centroid[j]! + p[j]! / n
    }
    const worst = points[w]!
    const worstValue = values[w]!
    const secondWorstValue = values[order[n - 1]!]!

    const reflected = along(centroid, worst, -1)
    const fr = evaluate(reflected)
    if (fr < bestValue) {
      const expanded = along(centroid, worst, -2)
      const fe = evaluate(expanded)
      if (fe < fr) {
        points[w] = expanded
        values[w] = fe
      } else {
        points[w] = reflected
        values[w] = fr
      }
      continue
    }
    if (fr < secondWorstValue) {
      points[w] = reflected
      values[w] = fr
      continue
    }
    if (fr < worstValue) {
      const outside = along(centroid, worst, -0.5)
      const fo = evaluate(outside)
      if (fo <= fr) {
        points[w] = outside
        values[w] = fo
        continue
      }
    } else {
      const inside = along(centroid, worst, 0.5)
      const fi = evaluate(inside)
      if (fi < worstValue) {
        points[w] = inside
        values[w] = fi
        continue
      }
    }
    // Shrink every vertex halfway towards the best one.
    const bestPoint = points[b]!
    for (let k = 1; k <= n; k++) {
      const i = order[k]!
      points[i] = along(bestPoint, points[i]!, 0.5)
      values[i] = evaluate(points[i]!)
    }
  }
}
