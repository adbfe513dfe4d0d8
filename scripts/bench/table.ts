/** The markdown table every benchmark prints, with a separator between groups and notes below. */

export interface TableRow {
  /** Rows of one group (a backend, a mode) sit between separators. */
  readonly group: string
  /** How a note names the row: `<group> / <label>`. */
  readonly label: string
  readonly cells: ReadonlyArray<string>
  readonly note?: string | undefined
  readonly failed?: string | undefined
}

/** `left`: indexes of the text columns; every other column is numeric (right-aligned). */
export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<TableRow>, left: ReadonlySet<number>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    "| " + cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |"
  const sep = "|" + widths.map((w, i) => (left.has(i) ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|"
  const out = [line(header), sep]
  let previous: string | undefined
  for (const r of rows) {
    if (previous !== undefined && previous !== r.group) out.push(sep)
    previous = r.group
    out.push(line(r.cells))
  }
  const notes = rows.filter((r) => r.note !== undefined || r.failed !== undefined)
    .map((r) => `  - ${r.group} / ${r.label}: ${r.failed !== undefined ? `FAILED: ${r.failed}` : r.note}`)
  return [...out, ...(notes.length > 0 ? ["", "Notes:", ...notes] : [])].join("\n")
}
