/**
 * `npm run lint:ai-gate` (issue 14 §3): no module outside `adapters/ai/` may reach an AI provider
 * except through the gateway (`src/ai/AiGateway.ts`). Two checks, on the syntax tree (SWC's
 * TypeScript parser, so comments and docs never count):
 * - no import, re-export, dynamic `import()` or `require()` of a provider SDK (`ai`, `@ai-sdk/*`,
 *   and the vendors' own SDKs);
 * - no string or template literal naming a provider's API host (`api.openai.com`, …): a plain
 *   `fetch` to a provider is a bypass too.
 * `src/simulator/ai/` is allowed the hosts' paths it reproduces (it names no host). Prints every
 * violation as `file:line:column` and exits 1 when there is any.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { parseSync } from "@swc/core"

/** Provider SDK packages: a specifier equal to one, or under one (`ai/rsc`, `@ai-sdk/openai`). */
export const PROVIDER_PACKAGES = ["ai", "@ai-sdk", "openai", "@anthropic-ai", "@google/genai", "@google/generative-ai", "@mistralai", "cohere-ai"]

/** The providers' API hosts. */
export const PROVIDER_HOSTS = [
  "api.anthropic.com",
  "api.openai.com",
  "generativelanguage.googleapis.com",
  "aiplatform.googleapis.com",
  "api.mistral.ai",
  "api.cohere.com",
  "api.cohere.ai"
]

/** Where provider SDKs and hosts may appear (relative to the root, `/`-separated): the gateway, and this list. */
export const ALLOWED = ["adapters/ai/", "scripts/lint-ai-gate.ts"]

export interface Violation {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly message: string
}

const isProviderPackage = (specifier: string) =>
  PROVIDER_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`))

const MARKER = "0;"

// a host as a whole name: `api.openai.com` in a URL, not inside `api.openai.company.example`
const HOST_PATTERNS = PROVIDER_HOSTS.map((h) => [h, new RegExp(`(?<![a-z0-9-])${h.replaceAll(".", "\\.")}(?![a-z0-9-])`, "i")] as const)

const hostIn = (text: string) => HOST_PATTERNS.find(([, pattern]) => pattern.test(text))?.[0]

/** Every violation in one file's source (`file` is only used in the messages). */
export const violationsIn = (file: string, source: string): ReadonlyArray<Violation> => {
  // SWC's spans are byte offsets into everything it parsed in this process, and a module's own
  // span starts at its first token: a marker statement in front of the source gives the base
  // a shebang line becomes a comment of the same length (the marker would put it mid-line)
  const text = source.startsWith("#!") ? `//${source.slice(2)}` : source
  const ast = parseSync(`${MARKER}${text}`, { syntax: "typescript", tsx: file.endsWith(".tsx"), comments: false })
  const base = (ast.body[0] as { span: { start: number } }).span.start + MARKER.length
  const bytes = Buffer.from(source)
  const lineStarts = [0]
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1)
  const at = (offset: number) => {
    const o = bytes.subarray(0, Math.max(0, offset - base)).toString().length
    let line = 0
    while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= o) line++
    return { line: line + 1, column: o - lineStarts[line]! + 1 }
  }
  const out: Array<Violation> = []
  const flag = (node: { span: { start: number } }, message: string) => out.push({ file, ...at(node.span.start), message })
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return
    if (Array.isArray(node)) {
      for (const child of node) visit(child)
      return
    }
    const n = node as { type?: string; span?: { start: number }; [k: string]: unknown }
    switch (n.type) {
      case "ImportDeclaration":
      case "ExportAllDeclaration":
      case "ExportNamedDeclaration": {
        const source = (n["source"] as { value?: string } | null)?.value
        if (source !== undefined && isProviderPackage(source)) flag(n as never, `imports the provider SDK "${source}" outside the AI gateway (adapters/ai/)`)
        break
      }
      case "CallExpression": {
        const callee = n["callee"] as { type?: string; value?: string } | undefined
        const first = (n["arguments"] as Array<{ expression?: { type?: string; value?: string } }> | undefined)?.[0]?.expression
        const dynamic = callee?.type === "Import" || (callee?.type === "Identifier" && callee.value === "require")
        if (dynamic && first?.type === "StringLiteral" && first.value !== undefined && isProviderPackage(first.value)) {
          flag(n as never, `loads the provider SDK "${first.value}" outside the AI gateway (adapters/ai/)`)
        }
        break
      }
      case "StringLiteral": {
        const host = hostIn(String(n["value"] ?? ""))
        if (host !== undefined) flag(n as never, `names the provider host ${host} outside the AI gateway (adapters/ai/)`)
        break
      }
      case "TemplateElement": {
        const host = hostIn(String(n["cooked"] ?? n["raw"] ?? ""))
        if (host !== undefined) flag(n as never, `names the provider host ${host} outside the AI gateway (adapters/ai/)`)
        break
      }
    }
    for (const [key, value] of Object.entries(n)) if (key !== "span" && typeof value === "object") visit(value)
  }
  visit(ast.body.slice(1))
  return out
}

const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    if (name === "node_modules" || name.startsWith(".")) return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : SOURCE.test(name) && !name.endsWith(".d.ts") ? [path] : []
  })

/** Every violation under `roots` (directories relative to `root`), files under {@link ALLOWED} excepted. */
export const findViolations = (root: string, roots: ReadonlyArray<string>): ReadonlyArray<Violation> =>
  roots.flatMap((r) => {
    const dir = join(root, r)
    try {
      statSync(dir)
    } catch {
      return []
    }
    return filesUnder(dir).flatMap((path) => {
      const file = relative(root, path).split(sep).join("/")
      return ALLOWED.some((a) => file.startsWith(a)) ? [] : violationsIn(file, readFileSync(path, "utf8"))
    })
  })

/** The directories of the codebase the gate guards. */
export const GUARDED = ["domain", "src", "adapters", "projections", "migrations", "scripts"]

if (import.meta.main) {
  const violations = findViolations(process.cwd(), process.argv.length > 2 ? process.argv.slice(2) : GUARDED)
  for (const v of violations) console.error(`${v.file}:${v.line}:${v.column}  ${v.message}`)
  if (violations.length > 0) {
    console.error(`\n${violations.length} AI gateway bypass(es): call AiGateway.generate (src/ai/AiGateway.ts) instead.`)
    process.exit(1)
  }
  console.log(`AI gateway: no bypass in ${GUARDED.join(", ")}`)
}
