/** Saves text as a file (a CSV export of what a screen shows). */
export const downloadText = (name: string, text: string, type = "text/csv") => {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement("a")
  a.href = url
  a.download = name
  a.click()
  URL.revokeObjectURL(url)
}

/**
 * One CSV cell. A text starting with = + - @ or a tab/CR would be a formula to a spreadsheet, and
 * some texts come from visitors (a channel is an unknown `utm_source` as sent): it is prefixed with
 * a quote so it stays text (OWASP's CSV injection advice). Numbers are written as they are.
 */
const cell = (v: string | number) => {
  const s = typeof v === "number" ? String(v) : /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return /[",\n\r]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
}

export const csv = (rows: ReadonlyArray<ReadonlyArray<string | number>>) => rows.map((r) => r.map(cell).join(",")).join("\n") + "\n"
