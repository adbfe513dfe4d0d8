/**
 * `npm run lint:ai-gate` (issue 14 §3): the gate names every planted bypass in a fixture tree —
 * static and dynamic imports of a provider SDK, a re-export, provider hosts in string and
 * template literals — and nothing in comments or in the gateway itself; the real tree passes.
 */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { findViolations, GUARDED } from "../../scripts/lint-ai-gate.ts"

const fixture = join(import.meta.dirname, "fixtures", "ai-gate")

describe("the AI gateway's CI gate", () => {
  it("catches every planted bypass, at its line, and nothing else", () => {
    const found = findViolations(fixture, ["src", "adapters"]).map((v) => `${v.file}:${v.line}:${v.column} ${v.message}`)
    expect(found).toEqual([
      "src/dynamic.ts:2:41 loads the provider SDK \"@ai-sdk/anthropic\" outside the AI gateway (adapters/ai/)",
      "src/sneaky.ts:2:1 imports the provider SDK \"@ai-sdk/openai\" outside the AI gateway (adapters/ai/)",
      "src/sneaky.ts:3:1 imports the provider SDK \"ai\" outside the AI gateway (adapters/ai/)",
      "src/sneaky.ts:7:10 names the provider host api.openai.com outside the AI gateway (adapters/ai/)",
      "src/sneaky.ts:8:23 names the provider host api.anthropic.com outside the AI gateway (adapters/ai/)"
    ])
  })

  it("the codebase itself has no bypass", () => {
    expect(findViolations(join(import.meta.dirname, "..", ".."), GUARDED)).toEqual([])
  })
})
