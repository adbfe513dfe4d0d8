/** An action's params as a form, generated from its `param_schema` (the seed's meta). */
import { Checkbox, FormLayout, Select, TextField } from "@shopify/polaris"
import { humanize } from "../format.ts"
import type { ParamSpec } from "../types.ts"

const label = (p: ParamSpec) => `${humanize(p.key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase())}${p.optional === true ? " (optional)" : ""}`

const help = (p: ParamSpec) =>
  [
    p.description,
    p.min !== undefined && p.max !== undefined ? `From ${p.min} to ${p.max}.` : undefined,
    p.type === "string_list" ? `One per line${p.maxItems === undefined ? "" : `, at most ${p.maxItems}`}.` : undefined
  ].filter((s) => s !== undefined).join(" ")

export const ParamsForm = ({ schema, values, onChange, errors }: {
  schema: ReadonlyArray<ParamSpec>
  values: Record<string, unknown>
  onChange: (values: Record<string, unknown>) => void
  errors: (field: string) => string | undefined
}) => {
  if (schema.length === 0) return null
  const set = (key: string, value: unknown) => {
    const next = { ...values }
    if (value === undefined) delete next[key]
    else next[key] = value
    onChange(next)
  }
  return (
    <FormLayout>
      {schema.map((p) => {
        const value = values[p.key] ?? p.default
        const error = errors(`params.${p.key}`)
        const common = { label: label(p), helpText: help(p), ...(error === undefined ? {} : { error }) }
        switch (p.type) {
          case "boolean":
            return <Checkbox key={p.key} {...common} checked={value === true} onChange={(v) => set(p.key, v)} />
          case "number":
            return (
              <TextField
                key={p.key}
                {...common}
                type="number"
                autoComplete="off"
                value={value === undefined ? "" : String(value)}
                {...(p.min === undefined ? {} : { min: p.min })}
                {...(p.max === undefined ? {} : { max: p.max })}
                onChange={(v) => set(p.key, v === "" ? undefined : Number(v))}
              />
            )
          case "string_list":
            return (
              <TextField
                key={p.key}
                {...common}
                multiline={3}
                autoComplete="off"
                value={Array.isArray(value) ? value.join("\n") : ""}
                onChange={(v) => set(p.key, v.split("\n").map((s) => s.trim()).filter((s) => s !== ""))}
              />
            )
          default:
            return p.oneOf !== undefined
              ? <Select key={p.key} {...common} options={p.oneOf.map((o) => ({ label: humanize(o), value: o }))} value={String(value ?? p.oneOf[0])} onChange={(v) => set(p.key, v)} />
              : (
                <TextField
                  key={p.key}
                  {...common}
                  autoComplete="off"
                  value={value === undefined ? "" : String(value)}
                  {...(p.maxLength === undefined ? {} : { maxLength: p.maxLength, showCharacterCount: true })}
                  onChange={(v) => set(p.key, v === "" && p.optional === true ? undefined : v)}
                />
              )
        }
      })}
    </FormLayout>
  )
}
