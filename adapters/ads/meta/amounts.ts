/**
 * Meta's money on the wire, converted to the micros Sumeru compares across platforms
 * (`src/ads/AdPlatform.ts`). Budgets and bid amounts are integers in the account currency's
 * minor unit with Meta's per-currency offset (100 for USD/EUR…, 1 for JPY, KRW and the other
 * currencies Meta lists with offset 1 on its "Currency Codes" page); insights money (`spend`,
 * `action_values`) is a decimal string in major units. Decimal strings are converted digit by
 * digit, never through a float, so `"0.29"` is exactly 290,000 micros.
 */

/** Currencies whose Meta offset is 1 (Marketing API "Currency Codes"); all others have 100. */
export const OFFSET_ONE_CURRENCIES: ReadonlySet<string> = new Set(["CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND"])

/** Minor units per major unit in Meta's budget and bid amounts for `currency`. */
export const currencyOffset = (currency: string): number => (OFFSET_ONE_CURRENCIES.has(currency.toUpperCase()) ? 1 : 100)

const MICROS = 1_000_000

/** A Meta minor-unit amount (`daily_budget`, `bid_amount`) in micros. */
export const minorToMicros = (minor: number, currency: string): number => minor * (MICROS / currencyOffset(currency))

/**
 * Micros as a Meta minor-unit amount, rounded half up to the nearest unit Meta can hold
 * (a cent for USD, a yen for JPY).
 */
export const microsToMinor = (micros: number, currency: string): number => Math.floor((micros * currencyOffset(currency)) / MICROS + 0.5)

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/** A decimal string in major units (`"123.4"`) in micros, exactly; undefined when it is not a decimal. */
export const decimalToMicros = (value: string): number | undefined => {
  const m = DECIMAL.exec(value.trim())
  if (m === null) return undefined
  const [, sign, whole, fraction = ""] = m
  const digits = fraction.padEnd(7, "0")
  let micros = Number(whole) * MICROS + Number(digits.slice(0, 6))
  if (Number(digits[6]) >= 5) micros += 1
  return sign === "-" ? -micros : micros
}

/** A count Meta sends as a string (`"4210"`, or a modelled `"1.5"`); undefined when not a number. */
export const countOf = (value: string | number | undefined): number | undefined => {
  if (value === undefined) return undefined
  const n = typeof value === "number" ? value : Number(value.trim())
  return Number.isFinite(n) ? n : undefined
}
