/**
 * Runs the real CLI (`src/cli.ts`) as a child process on this Node (24, through npm/vitest),
 * and seeds databases through the event store in-process.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { expect } from "vitest"
import * as Database from "../../adapters/postgres/Database.ts"
import { coreLayer, type CoreServices } from "../../src/CoreLayer.ts"
import { testKeyEnv, testKeyRing } from "../support/keys.ts"

export const root = join(import.meta.dirname, "..", "..")
export const cliPath = join(root, "src", "cli.ts")
/** The bundled server `npm start` runs (scripts/build-server.ts; the test run's global setup builds it). */
export const bundledCliPath = join(root, "dist", "server", "cli.js")

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The child's environment: no colors, the database settings given, and the tests' key ring. */
export const cliEnv = (db: { readonly url?: string; readonly dataDir?: string }): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", DATABASE_URL: db.url ?? "", ...testKeyEnv }
  delete env["FORCE_COLOR"]
  if (db.dataDir !== undefined) env["SUMERU_DATA_DIR"] = db.dataDir
  return env
}

export const runCli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Promise<CliResult> =>
  new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { cwd: root, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })

/** Runs `cli … | head -n 1` in bash with pipefail: the CLI's own exit status decides. */
export const runCliPipedToHead = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Promise<CliResult> => {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
  const script = `set -o pipefail; ${[process.execPath, cliPath, ...args].map(quote).join(" ")} | head -n 1`
  return new Promise((resolve) => {
    execFile("bash", ["-c", script], { cwd: root, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts a long-running CLI command; `waitFor` resolves when stdout matches, without sleeping. */
export const spawnCli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, entry: string = cliPath) => {
  const child: ChildProcess = spawn(process.execPath, [entry, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  const listeners = new Set<() => void>()
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString()
    for (const l of listeners) l()
  })
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    waitFor: (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            listeners.delete(check)
            resolve()
          }
        }
        listeners.add(check)
        void exited.then((code) => reject(new Error(`CLI exited (${code}) before ${pattern}: ${stdout}\n${stderr}`)))
        check()
      })
  }
}

/** A user error: exit 1, one line on stderr, no stack trace. */
export const expectUserError = (r: CliResult, message: RegExp) => {
  expect(r.code, r.stderr).toBe(1)
  const lines = r.stderr.trim().split("\n")
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(message)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

/** Migration names in `migrations/`, in order (what `migrate` must report on a fresh database). */
export const migrationNames = (): ReadonlyArray<string> =>
  readdirSync(join(root, "migrations"))
    .filter((f) => /^\d+_.+\.(ts|js|mts|mjs)$/.test(f))
    .sort()
    .map((f) => f.replace(/\.(ts|js|mts|mjs)$/, ""))

/** Runs `effect` against the PostgreSQL database at `url` through the core layer (the event store). */
export const withPostgres = <A, E>(url: string, effect: Effect.Effect<A, E, CoreServices>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, coreLayer(Database.layerPostgres(Redacted.make(url), { maxConnections: 2 }), testKeyRing())))

/** Runs `effect` against the embedded database in `dataDir` (locking it meanwhile). */
export const withEmbedded = <A, E>(dataDir: string, effect: Effect.Effect<A, E, CoreServices>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, coreLayer(Database.layerEmbedded(join(dataDir, "pglite")), testKeyRing())))
