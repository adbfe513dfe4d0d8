/** Saves text as a file (a CSV export of what a screen shows). */
export const downloadText = (name: string, text: string, type = "text/csv") => {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement("a")
  a.href = url
  a.download = name
  a.click()
  URL.revokeObjectURL(url)
}

const cell = (v: string | number) => {
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
}

export const csv = (rows: ReadonlyArray<ReadonlyArray<string | number>>) => rows.map((r) => r.map(cell).join(",")).join("\n") + "\n"
