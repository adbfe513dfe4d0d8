/**
 * The real `sumeru start` as a child process (Node 24 strips the types; or the bundle `npm start`
 * runs), for tests that need the production wiring and a process that must stay up. PostgreSQL
 * and JetStream are the test run's; each process gets its own database, NATS stream and data
 * directory.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { inject } from "vitest"
import { freshPostgresUrl } from "./databases.ts"
import { freePort } from "./pgServer.ts"
import { testKeyEnv } from "./keys.ts"

export interface ServerProcess {
  readonly url: string
  readonly databaseUrl: string
  readonly child: ChildProcess
  /** stderr and stdout so far (for failure messages). */
  readonly output: () => string
  readonly stop: () => Promise<number | null>
}

const cli = fileURLToPath(new URL("../../src/cli.ts", import.meta.url))
/** The bundled server `npm start` runs (scripts/build-server.ts; the test run's global setup builds it). */
const bundledCli = fileURLToPath(new URL("../../dist/server/cli.js", import.meta.url))

export const startServerProcess = async (
  env: Record<string, string> = {},
  options: { readonly bundled?: boolean } = {}
): Promise<ServerProcess> => {
  const databaseUrl = freshPostgresUrl()
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), "sumeru-server-"))
  const unique = `srv${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const child = spawn(process.execPath, [options.bundled === true ? bundledCli : cli, "start", "--role", "all", "--port", String(port)], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NATS_URL: inject("natsUrl"),
      NATS_STREAM: unique.toUpperCase(),
      NATS_SUBJECT_PREFIX: unique,
      SUMERU_PARTITIONS: "4",
      SUMERU_DATA_DIR: dataDir,
      LOG_LEVEL: "Warn",
      ...testKeyEnv,
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()))
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()))
  const url = `http://127.0.0.1:${port}`
  // Ready when /readyz answers 200 (database, log, partitions owned); the process exiting first fails.
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sumeru exited with ${child.exitCode}:\n${output}`)
    const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) break
    if (Date.now() > deadline) throw new Error(`sumeru did not become ready:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    databaseUrl,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM")
        await new Promise((r) => child.once("exit", r))
      }
      rmSync(dataDir, { recursive: true, force: true })
      return child.exitCode
    }
  }
}
