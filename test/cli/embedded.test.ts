/**
 * The `sumeru` CLI on the embedded database (PGlite in `SUMERU_DATA_DIR`), run as a real child
 * process: migrate, replay, a rebuild the CLI runs itself, the lock a running process holds; and
 * the bundled server `npm start` runs, on a new data directory.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { bundledCliPath, cliEnv, expectUserError, migrationNames, runCli, spawnCli, withEmbedded } from "./support.ts"

/** What the server logs when its child could not create a new data directory's cluster (Database.ts). */
const CLUSTER_IN_PROCESS = "could not be created in a child process"

const dirs: Array<string> = []
const tempDataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sumeru-cli-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe("sumeru CLI on the embedded database", () => {
  // One data directory throughout: creating a PGlite database costs seconds of CPU.
  it("migrate, replay, rebuild --wait in-process, and a clean refusal while another process holds the database", async () => {
    const dataDir = tempDataDir()
    const env = cliEnv({ dataDir })

    const first = await runCli(["migrate"], env)
    expect(first.code, first.stderr).toBe(0)
    // the new directory's cluster was made by a child process (Database.ts), not in this one
    expect(first.stdout + first.stderr).not.toContain(CLUSTER_IN_PROCESS)
    const names = migrationNames()
    expect(first.stdout).toContain(`Applied ${names.length} migration`)
    for (const n of names) expect(first.stdout).toContain(`  ${n}\n`)
    expect(first.stdout).toContain(`up to date (${names.length} migrations applied)`)
    const shop = "e.myshopify.com"
    // Seed in this process, and while this process holds the embedded database, the CLI must
    // refuse with one line naming the holder.
    const locked = await withEmbedded(dataDir, Effect.gen(function*() {
      const store = yield* EventStore
      for (let i = 0; i < 6; i++) {
        yield* store.append(`order-${i % 2}`, shop, "any", [{ type: "order.created", data: { i } }], {
          correlationId: `c${i}`,
          actor: { kind: "system", id: "test" }
        })
      }
      return yield* Effect.promise(() => runCli(["projections", "status"], env))
    }))
    expectUserError(locked, new RegExp(`embedded database in .* is in use by process ${process.pid}`))

    // Released: the CLI opens it.
    const replayed = await runCli(["events", "replay", "--shop", shop], env)
    expect(replayed.code, replayed.stderr).toBe(0)
    const lines = replayed.stdout.trim().split("\n").map((l) => JSON.parse(l))
    expect(lines.map((l) => l.data.i)).toEqual([0, 1, 2, 3, 4, 5])
    expect(lines.map((l) => l.position)).toEqual([...lines.map((l) => l.position)].sort((a, b) => a - b))

    const rebuilt = await runCli(["projections", "rebuild", "streams", "--wait"], env)
    expect(rebuilt.code, rebuilt.stderr).toBe(0)
    expect(rebuilt.stdout).toMatch(/streams gen 1: live \(v1\) at position 6; 6 events applied/)
    // nothing else can own the embedded database: the CLI built it itself
    expect(rebuilt.stdout).not.toContain("A projector owns")
  }, 120_000) // PGlite start-up is CPU-heavy: give a loaded machine room

  it("npm start's bundled server on a new data directory: the cluster made by its own child, every migration applied, glibc's threshold fixed, V8's young generation capped", async () => {
    const dataDir = tempDataDir()
    const server = spawnCli(["start", "--port", "0"], cliEnv({ dataDir }), bundledCliPath)
    try {
      await server.waitFor(/projection streams v1: owned by this process/)
      const { stdout, stderr } = server.output()
      // the bundle starts its own initdb entry (dist/server/pgliteInitdb.js), not a source file
      expect(stdout + stderr).not.toContain(CLUSTER_IN_PROCESS)
      // `start` on the embedded database runs as a new image of its own process, with glibc's
      // mmap threshold fixed so PGlite's start-up gives its memory back, and V8's young
      // generation capped (src/cli/processImage.ts)
      const environ = readFileSync(`/proc/${server.child.pid}/environ`, "utf8").split("\0")
      expect(environ).toContain("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768")
      expect(readFileSync(`/proc/${server.child.pid}/cmdline`, "utf8").split("\0")).toContain("--max-semi-space-size=16")
    } finally {
      server.child.kill("SIGTERM")
    }
    expect(await server.exited).toBe(0)
    // the migrations the bundle carries are all of them (migrations/index.ts lists the directory's files)
    const status = await runCli(["migrate"], cliEnv({ dataDir }))
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain(`up to date (${migrationNames().length} migrations applied)`)
  }, 120_000)
})
