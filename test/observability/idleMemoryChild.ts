/**
 * A process that has had a busy spell (it churned through about 600 MB of short-lived objects),
 * then runs the server's idle memory release with checks every 100 ms, and reports its resident
 * set before and once the release has had its chance (at most 10 s). Without the release, on
 * Node 24, the resident set stays where the spell left it (measured: 642 MB before and after).
 */
import { Duration, Effect } from "effect"
import { releaseIdleMemory } from "../../src/server/IdleMemory.ts"

let keep: Array<{ a: number; b: string; c: Array<number> }> = []
for (let round = 0; round < 150; round++) {
  for (let i = 0; i < 20_000; i++) keep.push({ a: i, b: `x${i}`, c: [i, i + 1] })
  if (keep.length > 400_000) keep = keep.slice(200_000)
  await new Promise((r) => setImmediate(r))
}
keep = []
const before = process.memoryUsage.rss()
Effect.runFork(releaseIdleMemory(Duration.millis(100)))
let after = before
for (const deadline = performance.now() + 10_000; performance.now() < deadline;) {
  await new Promise((r) => setTimeout(r, 100))
  after = process.memoryUsage.rss()
  if (after < before / 2) break
}
process.stdout.write(JSON.stringify({ before, after }) + "\n")
process.exit(0)
