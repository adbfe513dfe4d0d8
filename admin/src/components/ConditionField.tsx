/**
 * The rule's CEL condition, checked as it is typed: the draft goes to `POST /app/rules/validate`
 * a moment after the last keystroke, and each problem is shown with a caret under the position
 * the checker names.
 */
import { BlockStack, Text, TextField } from "@shopify/polaris"

const POSITION = /\(at position (\d+)\)/

/** The expression's line with a caret under `offset`. */
const caretAt = (expression: string, offset: number) => {
  const before = expression.slice(0, offset)
  const lineStart = before.lastIndexOf("\n") + 1
  const lineEnd = expression.indexOf("\n", offset)
  const line = expression.slice(lineStart, lineEnd === -1 ? undefined : lineEnd)
  return `${line}\n${" ".repeat(offset - lineStart)}^`
}

export const ConditionField = ({ value, onChange, problems, checking }: {
  value: string
  onChange: (v: string) => void
  problems: ReadonlyArray<string>
  checking: boolean
}) => (
  <BlockStack gap="200">
    <TextField
      label="Condition (optional)"
      helpText={`A CEL expression over the trigger, e.g. resource.payload.vendor == 'Acme'. Empty: every ${"resource"} of the trigger.${checking ? " Checking…" : ""}`}
      multiline={2}
      monospaced
      autoComplete="off"
      value={value}
      onChange={onChange}
      {...(problems.length === 0 ? {} : { error: problems.map((p) => p.replace(POSITION, "").trim()).join("; ") })}
    />
    {problems.map((p) => {
      const m = POSITION.exec(p)
      return m === null || value === "" ? null : (
        <BlockStack key={p} gap="100">
          <Text as="p" tone="critical" variant="bodySm">At position {m[1]}:</Text>
          <pre className="sumeru-code" aria-label={`Where: position ${m[1]}`}>{caretAt(value, Math.min(Number(m[1]), value.length))}</pre>
        </BlockStack>
      )
    })}
  </BlockStack>
)
