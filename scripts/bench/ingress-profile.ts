/**
 * Where a `--cpu-prof` profile's time went, for `bench:ingress BENCH_CPU_PROF=dir`: self time
 * by area (an npm package, Node's internals, this repository's folders, GC, idle) and the
 * functions with the most self time.
 */
import { readFileSync } from "node:fs"
import { relative, resolve } from "node:path"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const repoRoot = resolve(import.meta.dirname, "..", "..")

const areaOf = (url: string, name: string): string => {
  if (url === "") return name.startsWith("(") ? name : "(native)"
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg !== null) return pkg[1]!
  if (url.startsWith("node:")) return url.startsWith("node:internal/") ? `node:${url.split("/")[1]}` : url
  const path = url.startsWith("file://") ? relative(repoRoot, new URL(url).pathname) : url
  return path.split("/").slice(0, 2).join("/")
}

export const summarizeCpuProfile = (file: string, top: number): string => {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const))
  const selfUs = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt)
    total += dt
  })
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const n = byId.get(id)
    if (n === undefined) continue
    const { functionName, url, lineNumber } = n.callFrame
    const area = areaOf(url, functionName)
    areas.set(area, (areas.get(area) ?? 0) + us)
    const where = url === "" ? "" : ` ${url.startsWith("file://") ? relative(repoRoot, new URL(url).pathname) : url}:${lineNumber + 1}`
    const key = `${functionName || "(anonymous)"}${where}`
    functions.set(key, (functions.get(key) ?? 0) + us)
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`
  const busy = total - (areas.get("(idle)") ?? 0)
  const lines = [
    `    profile: ${(total / 1e6).toFixed(1)} s, of which ${(busy / 1e6).toFixed(1)} s busy (${pct(busy).trim()}); self time by area:`,
    ...[...areas].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([a, us]) => `      ${pct(us)}  ${a}`),
    `    functions with the most self time:`,
    ...[...functions].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, us]) => `      ${pct(us)}  ${f}`)
  ]
  return lines.join("\n")
}
