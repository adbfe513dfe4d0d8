/**
 * The fault-injection suite's knobs, read from the environment once. Defaults are sized so the
 * whole chaos suite (three scenarios) stays within about four minutes on a 2-core CI machine;
 * raise them for longer soak runs:
 *
 *   CHAOS_RUNS=5 CHAOS_MESSAGES=10000 CHAOS_SHOPS=500 CHAOS_RATE=350 CHAOS_KILLS=10 npx vitest run test/chaos
 *
 * | variable          | default | meaning                                                         |
 * |-------------------|---------|-----------------------------------------------------------------|
 * | CHAOS_RUNS        | 1       | repeat every scenario this many times                           |
 * | CHAOS_MESSAGES    | 8000    | signed `orders/create` webhooks per run                         |
 * | CHAOS_SHOPS       | 400     | shops they are spread over (each shop's sent strictly in order) |
 * | CHAOS_RATE        | 300     | target webhooks per second, all shops together                  |
 * | CHAOS_KILLS       | 6       | worker SIGKILLs per run of the kill scenario                    |
 * | CHAOS_PARTITIONS  | 64      | partitions of the shop log (production default)                 |
 * | CHAOS_KEEP_LOGS   | unset   | `1`: keep the processes' log directory after a passing run     |
 */

const intFromEnv = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
  return n
}

export interface ChaosKnobs {
  readonly runs: number
  readonly messages: number
  readonly shops: number
  readonly rate: number
  readonly kills: number
  readonly partitions: number
  readonly keepLogs: boolean
}

export const knobs: ChaosKnobs = {
  runs: intFromEnv("CHAOS_RUNS", 1, 1),
  messages: intFromEnv("CHAOS_MESSAGES", 8000, 1),
  shops: intFromEnv("CHAOS_SHOPS", 400, 1),
  rate: intFromEnv("CHAOS_RATE", 300, 1),
  kills: intFromEnv("CHAOS_KILLS", 6, 0),
  partitions: intFromEnv("CHAOS_PARTITIONS", 64, 1),
  keepLogs: process.env["CHAOS_KEEP_LOGS"] === "1"
}

/** Expected length of the load at the target rate, in ms (faults are planned inside it). */
export const loadDurationMs = (k: ChaosKnobs = knobs): number => Math.ceil((k.messages / k.rate) * 1000)
