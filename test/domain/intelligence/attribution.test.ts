/**
 * Multi-touch attribution (`domain/intelligence/attribution.ts`): the five heuristic models on
 * 1- to 4-touch journeys worked out by hand, the classic three-journey Markov example and one
 * with a self-transition, Shapley by hand and by its axioms (efficiency, symmetry, null player),
 * exact vs sampled Shapley, and properties over random journeys: every model's credits add up
 * to the conversions and the revenue, none negative, no NaN.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  attribute,
  countedTouches,
  type HeuristicModel,
  type Journey,
  journeyShares,
  markov,
  type ModelCredits,
  MODELS,
  type Shares,
  sharesFromWeights,
  shapley,
  type Touch
} from "../../../domain/intelligence/attribution.ts"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T = Date.UTC(2026, 0, 31)

const at = (channel: string, daysBefore: number): Touch => ({ channel, at: T - daysBefore * DAY })
const converted = (id: string, touches: ReadonlyArray<Touch>, revenue = 100): Journey => ({ id, touches, conversion: { at: T, revenue } })
/** Channels in order, one hour apart, ending an hour before the conversion (or the end of a non-converting journey). */
const path = (id: string, channels: ReadonlyArray<string>, conversion: { readonly revenue: number } | null): Journey => ({
  id,
  touches: channels.map((channel, i) => ({ channel, at: T - (channels.length - i) * HOUR })),
  conversion: conversion === null ? null : { at: T, revenue: conversion.revenue }
})

const expectShares = (actual: Shares, expected: Shares) => {
  expect(Object.keys(actual).toSorted()).toEqual(Object.keys(expected).toSorted())
  for (const [c, s] of Object.entries(expected)) expect(actual[c]).toBeCloseTo(s, 12)
}
const expectCredits = (actual: ModelCredits, expected: Readonly<Record<string, readonly [number, number]>>) => {
  expect(Object.keys(actual).toSorted()).toEqual(Object.keys(expected).toSorted())
  for (const [c, [conversions, revenue]] of Object.entries(expected)) {
    expect(actual[c]!.conversions).toBeCloseTo(conversions, 12)
    expect(actual[c]!.revenue).toBeCloseTo(revenue, 9)
  }
}
const sum = (xs: ReadonlyArray<number>) => xs.reduce((s, x) => s + x, 0)
const closeTo = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))

describe("counted touches", () => {
  it("sorts by time and keeps only touches within 30 days before the conversion (both ends inclusive)", () => {
    const j = converted("o1", [at("late", -1), at("b", 0), at("a", 30), at("stale", 30.001), at("m", 3)])
    expect(countedTouches(j).map((t) => t.channel)).toEqual(["a", "m", "b"])
    expect(countedTouches(j, { lookbackMs: 5 * DAY }).map((t) => t.channel)).toEqual(["m", "b"])
  })

  it("a conversion with no counted touch is one direct touch at the conversion", () => {
    expect(countedTouches(converted("o1", []))).toEqual([{ channel: "direct", at: T }])
    expect(countedTouches(converted("o1", [at("old", 45)]))).toEqual([{ channel: "direct", at: T }])
    expect(journeyShares("linear", converted("o1", [at("old", 45)]))).toEqual({ direct: 1 })
  })

  it("keeps the given order of touches at the same instant (stable)", () => {
    const j = converted("o1", [at("x", 2), at("y", 2), at("z", 2)])
    expect(journeyShares("first_touch", j)).toEqual({ x: 1, y: 0, z: 0 })
    expect(journeyShares("last_touch", j)).toEqual({ x: 0, y: 0, z: 1 })
  })

  it("a non-converting journey's window ends at its latest touch; none at all counts nothing", () => {
    const j: Journey = { id: "v1", touches: [at("a", 100), at("b", 75), at("c", 60)], conversion: null }
    expect(countedTouches(j).map((t) => t.channel)).toEqual(["b", "c"])
    expect(countedTouches({ id: "v2", touches: [], conversion: null })).toEqual([])
    expect(journeyShares("linear", j)).toEqual({})
  })
})

describe("heuristic models, by hand (half-life 7 days)", () => {
  // 1 touch: everything to A under every model (time decay: one weight, normalised to 1).
  const one = converted("one", [at("A", 1)])
  // 2 touches, given out of order: A 14 days before, B 7 days before.
  //   time decay: weights 2^-2 = 1/4 (A) and 2^-1 = 1/2 (B), sum 3/4 → A 1/3, B 2/3
  const two = converted("two", [at("B", 7), at("A", 14)])
  // 3 touches: A −14d, B −7d, C at the conversion.
  //   time decay: 1/4, 1/2, 1 (sum 7/4) → 1/7, 2/7, 4/7
  //   position-based: 40 % / 20 % / 40 %
  const three = converted("three", [at("A", 14), at("B", 7), at("C", 0)])
  // 4 touches: A −21d, B −14d, A −7d, C at the conversion.
  //   linear: A two of four shares = 1/2, B 1/4, C 1/4
  //   time decay: 1/8, 1/4, 1/2, 1 (sum 15/8) → A (1/8 + 1/2)/(15/8) = 1/3, B (1/4)/(15/8) = 2/15, C 1/(15/8) = 8/15
  //   position-based: A 40 % + 10 % (its middle touch) = 50 %, B 10 %, C 40 %
  const four = converted("four", [at("A", 21), at("B", 14), at("A", 7), at("C", 0)])

  const expected: ReadonlyArray<readonly [string, Journey, Readonly<Record<HeuristicModel, Shares>>]> = [
    ["1 touch", one, {
      first_touch: { A: 1 },
      last_touch: { A: 1 },
      linear: { A: 1 },
      time_decay: { A: 1 },
      position_based: { A: 1 }
    }],
    ["2 touches", two, {
      first_touch: { A: 1, B: 0 },
      last_touch: { A: 0, B: 1 },
      linear: { A: 1 / 2, B: 1 / 2 },
      time_decay: { A: 1 / 3, B: 2 / 3 },
      position_based: { A: 1 / 2, B: 1 / 2 }
    }],
    ["3 touches", three, {
      first_touch: { A: 1, B: 0, C: 0 },
      last_touch: { A: 0, B: 0, C: 1 },
      linear: { A: 1 / 3, B: 1 / 3, C: 1 / 3 },
      time_decay: { A: 1 / 7, B: 2 / 7, C: 4 / 7 },
      position_based: { A: 0.4, B: 0.2, C: 0.4 }
    }],
    ["4 touches, a channel twice", four, {
      first_touch: { A: 1, B: 0, C: 0 },
      last_touch: { A: 0, B: 0, C: 1 },
      linear: { A: 1 / 2, B: 1 / 4, C: 1 / 4 },
      time_decay: { A: 1 / 3, B: 2 / 15, C: 8 / 15 },
      position_based: { A: 0.5, B: 0.1, C: 0.4 }
    }]
  ]

  for (const [name, journey, byModel] of expected) {
    for (const [model, shares] of Object.entries(byModel)) {
      it(`${model} on ${name}`, () => expectShares(journeyShares(model as HeuristicModel, journey), shares))
    }
  }

  it("time decay measures Δt from the conversion: a conversion a week after the last touch changes nothing", () => {
    // Weights 2^-3, 2^-2 (conversion 7 days after B) normalise to the same 1/3, 2/3.
    const later: Journey = { ...two, touches: [at("B", 7), at("A", 14)].map((t) => ({ ...t, at: t.at - 7 * DAY })) }
    expectShares(journeyShares("time_decay", later), { A: 1 / 3, B: 2 / 3 })
    // Half-life of 14 days: weights 2^-1, 2^-1/2 → A 1/(1 + √2), B √2/(1 + √2)
    expectShares(journeyShares("time_decay", two, { halfLifeMs: 14 * DAY }), { A: 1 / (1 + Math.SQRT2), B: Math.SQRT2 / (1 + Math.SQRT2) })
  })

  it("attribute sums the shares over the converting journeys, revenue pro rata", () => {
    const credits = attribute([three, converted("four", four.touches, 300), { id: "v", touches: [at("D", 1)], conversion: null }])
    // linear: three (100) → 1/3 each; four (300) → A 1/2, B 1/4, C 1/4
    expectCredits(credits.linear, {
      A: [1 / 3 + 1 / 2, 100 / 3 + 150],
      B: [1 / 3 + 1 / 4, 100 / 3 + 75],
      C: [1 / 3 + 1 / 4, 100 / 3 + 75],
      D: [0, 0]
    })
  })
})

describe("Markov removal effect", () => {
  it("the classic example: C1→C2→C3→conversion, C1→null, C2→C3→null", () => {
    // Counts: (start)→C1 2, (start)→C2 1; C1→C2 1, C1→null 1; C2→C3 2; C3→conv 1, C3→null 1.
    // P: (start) C1 2/3, C2 1/3 · C1: C2 1/2, null 1/2 · C2: C3 1 · C3: conv 1/2, null 1/2.
    // P(conv) = 2/3·1/2·1·1/2 + 1/3·1·1/2 = 1/6 + 1/6 = 1/3.
    // Remove C1: (start)→C1 goes to null, P = 1/3·1·1/2 = 1/6 → RE(C1) = 1 − (1/6)/(1/3) = 1/2.
    // Remove C2 or C3: every converting path passes through it, P = 0 → RE = 1.
    // ΣRE = 5/2: credits C1 (1/2)/(5/2) = 0.2, C2 = C3 = 1/(5/2) = 0.4 of the one conversion (revenue 100).
    const result = markov([path("j1", ["C1", "C2", "C3"], { revenue: 100 }), path("j2", ["C1"], null), path("j3", ["C2", "C3"], null)])
    expect(result.conversionProbability).toBeCloseTo(1 / 3, 12)
    expect(result.removalEffects["C1"]).toBeCloseTo(1 / 2, 12)
    expect(result.removalEffects["C2"]).toBeCloseTo(1, 12)
    expect(result.removalEffects["C3"]).toBeCloseTo(1, 12)
    expectCredits(result.credits, { C1: [0.2, 20], C2: [0.4, 40], C3: [0.4, 40] })
  })

  it("a self-transition is kept: A→A→B→conversion, A→null, B→null", () => {
    // Counts: (start)→A 2, (start)→B 1; A→A 1, A→B 1, A→null 1; B→conv 1, B→null 1.
    // x_B = 1/2; x_A = 1/3·x_A + 1/3·x_B → (2/3)·x_A = 1/6 → x_A = 1/4.
    // P(conv) = 2/3·1/4 + 1/3·1/2 = 1/3.
    // Remove A: P = 1/3·1/2 = 1/6 → RE(A) = 1/2. Remove B: x_A = 1/3·x_A → 0, P = 0 → RE(B) = 1.
    // Credits: A (1/2)/(3/2) = 1/3, B 1/(3/2) = 2/3.
    const journeys = [path("j1", ["A", "A", "B"], { revenue: 90 }), path("j2", ["A"], null), path("j3", ["B"], null)]
    const result = markov(journeys)
    expect(result.conversionProbability).toBeCloseTo(1 / 3, 12)
    expect(result.removalEffects).toEqual({ A: expect.closeTo(1 / 2, 12), B: expect.closeTo(1, 12) })
    expectCredits(result.credits, { A: [1 / 3, 30], B: [2 / 3, 60] })
    // A first-order chain's absorption does not depend on self-loops: the collapsed journeys agree.
    const collapsed = markov([path("j1", ["A", "B"], { revenue: 90 }), ...journeys.slice(1)])
    expect(collapsed.conversionProbability).toBeCloseTo(result.conversionProbability, 12)
    expectCredits(collapsed.credits, { A: [1 / 3, 30], B: [2 / 3, 60] })
  })

  it("cyclic journeys (A→B→A→B) are solved exactly, without NaN", () => {
    // Counts: (start)→A 2; A→B 4; B→A 2; B→conv 1, B→null 1.
    // x_A = x_B; x_B = 1/2·x_A + 1/4 → x_A = x_B = 1/2; P = 1/2. Removing either: P = 0, RE = 1.
    const result = markov([path("j1", ["A", "B", "A", "B"], { revenue: 10 }), path("j2", ["A", "B", "A", "B"], null)])
    expect(result.conversionProbability).toBeCloseTo(1 / 2, 12)
    expectCredits(result.credits, { A: [0.5, 5], B: [0.5, 5] })
  })

  it("a channel seen only on non-converting journeys can still matter (it diverts paths)", () => {
    // (start)→A 2; A→B 1, A→D 1; D→B 1; B→conv 1, B→null 1. x_B = 1/2, x_D = 1/2, x_A = 1/2: P = 1/2.
    // Remove D: A→D goes to null, x_A = 1/2·1/2 = 1/4 → RE(D) = 1/2. RE(A) = RE(B) = 1.
    const result = markov([path("j1", ["A", "B"], { revenue: 50 }), path("j2", ["A", "D", "B"], null)])
    expect(result.removalEffects).toEqual({ A: expect.closeTo(1, 12), B: expect.closeTo(1, 12), D: expect.closeTo(0.5, 12) })
    expectCredits(result.credits, { A: [0.4, 20], B: [0.4, 20], D: [0.2, 10] })
  })

  it("no conversion at all, or no journeys: probability 0, zero credits, no NaN", () => {
    const none = markov([path("v1", ["A", "B", "A", "B"], null), path("v2", ["B"], null)])
    expect(none.conversionProbability).toBe(0)
    expect(none.removalEffects).toEqual({ A: 0, B: 0 })
    expectCredits(none.credits, { A: [0, 0], B: [0, 0] })
    expect(markov([])).toEqual({ conversionProbability: 0, removalEffects: {}, credits: {} })
  })
})

describe("Shapley value", () => {
  it("two channels, by hand", () => {
    // Converting sets: {A} (revenue 10), {A, B} (revenue 30); {B} did not convert.
    // v(∅) = 0, v({A}) = 1, v({B}) = 0, v({A,B}) = 2 (revenue: 10, 0, 40).
    // φ_A = ½[(v(A) − v(∅)) + (v(AB) − v(B))] = ½(1 + 2) = 1.5; revenue ½(10 + 40) = 25
    // φ_B = ½[(v(B) − v(∅)) + (v(AB) − v(A))] = ½(0 + 1) = 0.5; revenue ½(0 + 30) = 15
    const result = shapley([path("j1", ["A"], { revenue: 10 }), path("j2", ["B", "A"], { revenue: 30 }), path("j3", ["B"], null)])
    expect(result.exact).toBe(true)
    expectCredits(result.credits, { A: [1.5, 25], B: [0.5, 15] })
  })

  const varied = [
    path("j1", ["A", "B"], { revenue: 20 }),
    path("j2", ["A", "B", "C"], { revenue: 50 }),
    path("j3", ["C"], { revenue: 5 }),
    path("j4", ["B", "A", "C", "C"], { revenue: 70 }),
    path("j5", ["D", "C"], null)
  ]

  it("efficiency: the credits sum to v(N), the conversions and their revenue", () => {
    const { credits } = shapley(varied)
    expect(sum(Object.values(credits).map((c) => c.conversions))).toBeCloseTo(4, 12)
    expect(sum(Object.values(credits).map((c) => c.revenue))).toBeCloseTo(145, 9)
  })

  it("symmetry: two channels that always appear together get equal credit", () => {
    const { credits } = shapley(varied)
    expect(credits["A"]!.conversions).toBeCloseTo(credits["B"]!.conversions, 12)
    expect(credits["A"]!.revenue).toBeCloseTo(credits["B"]!.revenue, 12)
  })

  it("null player: a channel only in non-converting journeys gets 0", () => {
    expect(shapley(varied).credits["D"]).toEqual({ conversions: 0, revenue: 0 })
    expect(attribute(varied).shapley["D"]).toEqual({ conversions: 0, revenue: 0 })
  })

  const channels = (n: number) => Array.from({ length: n }, (_, i) => `ch${String(i).padStart(2, "0")}`)
  /** Journeys over n channels, each with 1–3 of them, a deterministic spread. */
  const spread = (n: number) => Array.from({ length: 40 }, (_, k) => {
    const cs = channels(n)
    return path(`j${k}`, [cs[k % n]!, cs[(k * 3 + 1) % n]!, cs[(k * 7 + 2) % n]!].slice(0, 1 + (k % 3)), k % 5 === 4 ? null : { revenue: 10 + k })
  })

  it("exact and Monte Carlo agree closely on 6 channels when sampling is forced", () => {
    const journeys = spread(6)
    const exact = shapley(journeys)
    const sampled = shapley(journeys, { shapleyExactMax: 0, shapleySamples: 5_000 })
    expect([exact.exact, sampled.exact]).toEqual([true, false])
    // Within 1 % of the 32 conversions for every channel (the seed is fixed, so this never flakes).
    for (const c of channels(6)) {
      expect(Math.abs(sampled.credits[c]!.conversions - exact.credits[c]!.conversions)).toBeLessThan(0.32)
    }
    expect(sum(Object.values(sampled.credits).map((c) => c.conversions))).toBeCloseTo(32, 9)
  })

  it("17 channels: Monte Carlo, deterministic (same seed, same result), efficient", () => {
    const journeys = spread(17)
    const first = shapley(journeys)
    expect(first.exact).toBe(false)
    expect(shapley(journeys)).toEqual(first)
    expect(shapley(journeys, { shapleySeed: 7 })).not.toEqual(first)
    expect(sum(Object.values(first.credits).map((c) => c.conversions))).toBeCloseTo(32, 9)
  })
})

describe("per-order shares from global weights", () => {
  const j = converted("o1", [at("A", 3), at("B", 2), at("A", 1)])

  it("splits over the journey's distinct channels by weight, ignoring channels it did not touch", () => {
    expectShares(sharesFromWeights(j, { A: 3, B: 1, C: 100 }), { A: 0.75, B: 0.25 })
  })

  it("falls back to linear when every weight there is zero", () => {
    expectShares(sharesFromWeights(j, { C: 5, B: 0 }), { A: 2 / 3, B: 1 / 3 })
    expect(sharesFromWeights({ ...j, conversion: null }, { A: 1 })).toEqual({})
  })
})

describe("properties over random journeys", () => {
  const CHANNELS = ["a", "b", "c", "d", "e", "f", "g", "h"]
  const touch = fc.record({ channel: fc.constantFrom(...CHANNELS), at: fc.integer({ min: -40 * 24, max: 24 }).map((h) => T + h * HOUR) })
  const journey = fc.record({
    touches: fc.array(touch, { maxLength: 6 }),
    converts: fc.boolean(),
    revenue: fc.double({ min: 0, max: 1_000, noNaN: true })
  }).map(({ touches, converts, revenue }): Journey => ({ id: "j", touches, conversion: converts ? { at: T, revenue } : null }))
  const journeys = fc.array(journey, { maxLength: 25 })

  it("every model's credits sum to the conversions and the revenue; none negative; no NaN", () => {
    fc.assert(fc.property(journeys, (js) => {
      const conversions = js.filter((j) => j.conversion !== null)
      const revenue = sum(conversions.map((j) => j.conversion!.revenue))
      const all = attribute(js)
      expect(Object.keys(all)).toEqual([...MODELS])
      for (const model of MODELS) {
        const credits = Object.values(all[model])
        const values = credits.flatMap((c) => [c.conversions, c.revenue])
        expect(values.every(Number.isFinite)).toBe(true)
        expect(values.every((v) => v >= -1e-12)).toBe(true)
        expect(closeTo(sum(credits.map((c) => c.conversions)), conversions.length)).toBe(true)
        expect(closeTo(sum(credits.map((c) => c.revenue)), revenue)).toBe(true)
      }
    }))
  })

  it("Markov: probability and removal effects in [0, 1], credits never negative, even with cycles or no conversion", () => {
    fc.assert(fc.property(journeys, (js) => {
      const m = markov(js)
      expect(m.conversionProbability).toBeGreaterThanOrEqual(0)
      expect(m.conversionProbability).toBeLessThanOrEqual(1)
      expect(Object.values(m.removalEffects).every((re) => re >= 0 && re <= 1)).toBe(true)
      expect(Object.values(m.credits).every((c) => c.conversions >= 0 && c.revenue >= 0)).toBe(true)
      const silent = markov(js.map((j) => ({ ...j, conversion: null })))
      expect(silent.conversionProbability).toBe(0)
      expect(Object.values(silent.credits).every((c) => c.conversions === 0 && c.revenue === 0)).toBe(true)
    }))
  })

  it("every heuristic model's per-order shares and sharesFromWeights sum to 1", () => {
    const weights = fc.dictionary(fc.constantFrom(...CHANNELS), fc.double({ min: 0, max: 10, noNaN: true }))
    fc.assert(fc.property(journey, weights, (j, w) => {
      const conv: Journey = { ...j, conversion: { at: T, revenue: 1 } }
      for (const model of ["first_touch", "last_touch", "linear", "time_decay", "position_based"] as const) {
        expect(closeTo(sum(Object.values(journeyShares(model, conv))), 1)).toBe(true)
      }
      expect(closeTo(sum(Object.values(sharesFromWeights(conv, w))), 1)).toBe(true)
    }))
  })

  it("exact Shapley of this game is each conversion split evenly over its distinct channels (its Harsanyi dividends)", () => {
    fc.assert(fc.property(journeys, (js) => {
      const expected = new Map<string, number>()
      for (const j of js.filter((x) => x.conversion !== null)) {
        const set = new Set(countedTouches(j).map((t) => t.channel))
        for (const c of set) expected.set(c, (expected.get(c) ?? 0) + j.conversion!.revenue / set.size)
      }
      const { credits, exact } = shapley(js)
      expect(exact).toBe(true)
      for (const [c, v] of Object.entries(credits)) expect(v.revenue).toBeCloseTo(expected.get(c) ?? 0, 6)
    }))
  })
})
