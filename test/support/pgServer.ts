/**
 * Starts a throw-away PostgreSQL server (initdb in a temp dir, free loopback port) for tests
 * and benchmarks. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` user through `runuser`.
 */
import { execFile, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface PgServer {
  readonly url: string
  readonly port: number
  readonly version: string
  readonly stop: () => Promise<void>
  /** Creates a fresh database and returns its URL. */
  readonly createDatabase: (name: string) => string
  /**
   * `pg_ctl restart -m fast`: every session is disconnected, the server shuts down cleanly
   * and starts again on the same port and data directory. Resolves once it accepts
   * connections again (fault-injection suites).
   */
  readonly restart: () => Promise<void>
  /** The server's log file (startup, shutdown, errors), for failure messages. */
  readonly logFile: string
}

/** A PostgreSQL program (`initdb`, `pg_ctl`, `pgbench`): on PATH or in /usr/lib/postgresql/<newest>/bin. */
export const findBin = (name: string): string => {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, name))) return join(dir, name)
  }
  if (existsSync("/usr/lib/postgresql")) {
    const versions = readdirSync("/usr/lib/postgresql").sort().reverse()
    for (const v of versions) {
      const p = join("/usr/lib/postgresql", v, "bin", name)
      if (existsSync(p)) return p
    }
  }
  throw new Error(
    `PostgreSQL server binary '${name}' not found on PATH or in /usr/lib/postgresql/*/bin. ` +
      "Integration tests need a real PostgreSQL 15+ (apt-get install postgresql-15)."
  )
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

const asPostgres = (bin: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  isRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, [...args]]

/**
 * The server's environment: ours without the malloc tunables `sumeru start` runs with
 * (`src/cli/processImage.ts`), which benchmarks give the processes standing for a server;
 * PostgreSQL runs as its operator would run it.
 */
const serverEnv = (): NodeJS.ProcessEnv => {
  const { GLIBC_TUNABLES: _, ...env } = process.env
  return env
}

/**
 * @param durable when false (tests), fsync is off: a crash of the test machine loses nothing we need.
 */
export const startPgServer = async (options?: { readonly durable?: boolean }): Promise<PgServer> => {
  const initdb = findBin("initdb")
  const pgCtl = findBin("pg_ctl")
  const psql = findBin("psql")
  const dir = mkdtempSync(join(tmpdir(), "sumeru-pg-"))
  const dataDir = join(dir, "data")
  if (isRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    chownSync(dir, uid, gid)
  }
  const [c1, a1] = asPostgres(initdb, ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
  execFileSync(c1, a1, { stdio: "pipe" })
  const port = await freePort()
  const durable = options?.durable ?? false
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=200",
    "-c shared_buffers=256MB",
    ...(durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"])
  ].join(" ")
  const logFile = join(dir, "server.log")
  const [c2, a2] = asPostgres(pgCtl, ["-D", dataDir, "-o", settings, "-l", logFile, "-w", "-t", "60", "start"])
  execFileSync(c2, a2, { stdio: "pipe", env: serverEnv() })
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const version = execFileSync(psql, [url, "-tAc", "show server_version"]).toString().trim()
  return {
    url,
    port,
    version,
    logFile,
    restart: () => {
      const [c, a] = asPostgres(pgCtl, ["-D", dataDir, "-o", settings, "-l", logFile, "-m", "fast", "-w", "-t", "60", "restart"])
      return new Promise<void>((resolve, reject) => {
        execFile(c, a, { env: serverEnv() }, (error, _stdout, stderr) =>
          error === null ? resolve() : reject(new Error(`pg_ctl restart failed: ${error.message}\n${stderr}`)))
      })
    },
    createDatabase: (name) => {
      execFileSync(psql, [url, "-qc", `CREATE DATABASE "${name}"`], { stdio: "pipe" })
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    stop: async () => {
      const [c3, a3] = asPostgres(pgCtl, ["-D", dataDir, "-m", "immediate", "-w", "stop"])
      await new Promise<void>((resolve) => {
        const child = spawn(c3, a3, { stdio: "ignore" })
        child.on("exit", () => resolve())
        child.on("error", () => resolve())
      })
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
