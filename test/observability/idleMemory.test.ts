/**
 * The idle memory release (`src/server/IdleMemory.ts`): when it runs, and that it gives a busy
 * spell's memory back to the OS — in a process of its own, measured by its resident set.
 */
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { Duration } from "effect"
import { CHECK_EVERY, checkIdle, IDLE_CHECKS, IDLE_UTILIZATION, initialIdleState, WORTH_RELEASING } from "../../src/server/IdleMemory.ts"

const MB = 1024 * 1024

describe("when the idle memory release runs", () => {
  it("after IDLE_CHECKS idle checks in a row (past the actors' passivation), once the resident set has grown enough since the last release; a busy check starts the count again", () => {
    const idle = { utilization: IDLE_UTILIZATION / 2, rss: 500 * MB }
    /** `n` idle checks from `state`: whether the last one released, and the state after it. */
    const idleFor = (state: typeof initialIdleState, n: number) => {
      let decided = { release: false, state }
      for (let i = 0; i < n; i++) {
        expect(decided.release).toBe(false)
        decided = checkIdle(decided.state, idle)
      }
      return decided
    }
    // idle longer than the shop actors' 30 s passivation: what they held is garbage by then
    expect(IDLE_CHECKS * Duration.toMillis(CHECK_EVERY)).toBeGreaterThan(30_000)
    expect(idleFor(initialIdleState, IDLE_CHECKS - 1).release).toBe(false)
    expect(idleFor(initialIdleState, IDLE_CHECKS).release).toBe(true)
    // a busy check one short of the release: the count starts again
    const busy = checkIdle(idleFor(initialIdleState, IDLE_CHECKS - 1).state, { utilization: 0.5, rss: 500 * MB })
    expect(busy.release).toBe(false)
    expect(idleFor(busy.state, IDLE_CHECKS - 1).release).toBe(false)
    expect(idleFor(busy.state, IDLE_CHECKS).release).toBe(true)
  })

  it("not again while the resident set stays near what it was after the last release", () => {
    const afterRelease = { idleChecks: 0, rssAfterRelease: 200 * MB }
    const near = { utilization: 0, rss: 200 * MB + WORTH_RELEASING - 1 }
    let state = afterRelease
    for (let i = 0; i < 10; i++) {
      const decided = checkIdle(state, near)
      expect(decided.release).toBe(false)
      state = decided.state
    }
    expect(checkIdle(state, { utilization: 0, rss: 200 * MB + WORTH_RELEASING }).release).toBe(true)
  })
})

const runChild = () =>
  new Promise<{ before: number; after: number }>((resolve, reject) => {
    const child = spawn(process.execPath, [new URL("./idleMemoryChild.ts", import.meta.url).pathname], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()))
    child.once("error", reject)
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as { before: number; after: number }) : reject(new Error(`child exited ${code}: ${out}`))))
  })

describe("the idle memory release", () => {
  it("gives a busy spell's pooled heap pages back: the resident set falls to what is live once the process is idle", async () => {
    const released = await runChild()
    expect(released.before).toBeGreaterThan(300 * MB)
    expect(released.after).toBeLessThan(released.before / 2)
    expect(released.after).toBeLessThan(250 * MB)
  }, 60_000)
})
