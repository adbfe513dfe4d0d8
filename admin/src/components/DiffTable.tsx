/**
 * Snapshot against after, field by field: flattened to paths, changed fields marked. An action
 * records in "after" only what it wrote (a tag added, a title set), so a field the snapshot has
 * and "after" does not was left as it was: shown as unchanged, not as removed.
 */
import { Text } from "@shopify/polaris"

const flatten = (value: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> => {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0 && prefix !== "") out.set(prefix, "{}")
    for (const [k, v] of entries) flatten(v, prefix === "" ? k : `${prefix}.${k}`, out)
  } else if (prefix !== "") {
    out.set(prefix, value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value))
  } else if (value !== null && value !== undefined) {
    out.set("value", typeof value === "string" ? value : JSON.stringify(value))
  }
  return out
}

export const DiffTable = ({ before, after }: { before: unknown; after: unknown }) => {
  const b = flatten(before)
  const a = flatten(after)
  const keys = [...new Set([...b.keys(), ...a.keys()])].sort()
  if (keys.length === 0) return <Text as="p" tone="subdued">Nothing was recorded for this execution.</Text>
  const isChanged = (k: string) => a.has(k) && b.get(k) !== a.get(k)
  const changed = keys.filter(isChanged).length
  return (
    <div className="sumeru-scroll" tabIndex={0} role="region" aria-label="Before and after (scrolls sideways)">
      <Text as="p" tone="subdued">{changed === 0 ? "No field changed." : `${changed} field${changed === 1 ? "" : "s"} changed (highlighted).`}</Text>
      <table className="sumeru-diff">
        <caption className="Polaris-Text--visuallyHidden">Before and after, by field</caption>
        <thead>
          <tr><th scope="col">Field</th><th scope="col">Before (snapshot)</th><th scope="col">After</th></tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const changedHere = isChanged(k)
            return (
              <tr key={k} className={changedHere ? "sumeru-diff__changed" : undefined}>
                <th scope="row">{k}{changedHere ? <span className="Polaris-Text--visuallyHidden"> (changed)</span> : null}</th>
                <td>{b.get(k) ?? <em>none</em>}</td>
                <td>{a.has(k) ? a.get(k) : <em>unchanged</em>}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}
