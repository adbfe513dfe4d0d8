/** How numbers, money and times read in the app (the browser's locale). */
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" })

export const formatNumber = (n: number | null | undefined): string => (n === null || n === undefined ? "—" : number.format(n))

export const formatMoney = (n: number | null | undefined, currency: string | null | undefined): string => {
  if (n === null || n === undefined) return "—"
  if (currency === null || currency === undefined || currency === "mixed") return number.format(n)
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(n)
}

export const formatUsd = (micros: number): string =>
  new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 4 }).format(micros / 1e6)

export const formatTime = (iso: string | null | undefined): string => (iso === null || iso === undefined ? "—" : dateTime.format(new Date(iso)))

export const formatPercent = (ratio: number | null | undefined): string =>
  ratio === null || ratio === undefined ? "—" : `${number.format(Math.round(ratio * 1000) / 10)} %`

/** `product.drafted` → `Product drafted`, `tag_product` → `Tag product`. */
export const humanize = (key: string): string => {
  const s = key.replace(/[._]/g, " ").trim()
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** `YYYY-MM-DD` of a date, in UTC (what the API's date parameters mean). */
export const isoDay = (d: Date): string => d.toISOString().slice(0, 10)
export const daysAgo = (n: number): Date => new Date(Date.now() - n * 86_400_000)
