/** Benchmark knobs from the environment: unset or blank means the default. */
export const num = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`)
  return n
}

export const bool = (name: string, fallback: boolean): boolean => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  return !["0", "false", "no", "off"].includes(raw.trim().toLowerCase())
}
