/**
 * A distributed Sumeru as an operator runs it, for the fault-injection suite: the real program
 * (`node src/cli.ts start --role …`) as separate processes — one ingress, two workers, one
 * projector — over the suite's OWN PostgreSQL (durable: fsync on) and OWN nats-server
 * (JetStream on file storage), so that the suite may restart them without disturbing the
 * other suites of the test run, which share the run's servers.
 *
 * Processes are spawned directly rather than through `serverProcess.ts`, which starts one
 * `--role all` process on the test run's shared servers. Every process writes its output to
 * a log file in the cluster's directory (kept when a run fails) and keeps the last lines in
 * memory for failure messages. Waiting is bounded polling (`pollUntil`), never sleeping.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Duration, Effect } from "effect"
import { testKeyEnv } from "../keys.ts"
import { type NatsServer, startNatsServer } from "../natsServer.ts"
import { freePort, type PgServer, startPgServer } from "../pgServer.ts"
import { pollUntil } from "../poll.ts"

const cli = fileURLToPath(new URL("../../../src/cli.ts", import.meta.url))
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))

/** The Shopify app secret the ingress verifies webhooks with (and the load generator signs with). */
export const CHAOS_APP_SECRET = "chaos-app-secret"

/** Bounded poll of an async observation (see `pollUntil`); rejects naming `what` after `timeoutMs`. */
export const waitFor = <A>(check: () => Promise<A | undefined>, what: string, timeoutMs: number, intervalMs = 100): Promise<A> =>
  Effect.runPromise(pollUntil(Effect.promise(check), what, Duration.millis(timeoutMs), Duration.millis(intervalMs)))

// --- servers --------------------------------------------------------------------------------

export interface ChaosServers {
  readonly pg: PgServer
  readonly nats: NatsServer
  readonly stop: () => Promise<void>
}

/** PostgreSQL with fsync on (as in production) and nats-server with JetStream file storage. */
export const startChaosServers = async (): Promise<ChaosServers> => {
  const pg = await startPgServer({ durable: true })
  const nats = await startNatsServer().catch(async (e) => {
    await pg.stop()
    throw e
  })
  return { pg, nats, stop: async () => void (await Promise.all([pg.stop(), nats.stop()])) }
}

// --- role processes -------------------------------------------------------------------------

export type Role = "ingress" | "worker" | "projector"

export interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly at: number
}

export interface RoleProcess {
  /** `ingress`, `worker-a#2` (slot a, third incarnation), `projector`. */
  readonly name: string
  readonly role: Role
  readonly url: string
  readonly pid: number
  readonly logFile: string
  readonly exit: () => ExitInfo | null
  /** The last lines of its output. */
  readonly tail: (lines?: number) => string
  /** Output lines at level Error/Fatal or that look like crashes (the last 300). */
  readonly errorLines: () => ReadonlyArray<string>
  /** SIGKILL; resolves once it is gone. */
  readonly kill: () => Promise<void>
  /** SIGTERM, then SIGKILL after 10 s; resolves once it is gone. */
  readonly stop: () => Promise<void>
  /** `/readyz` as JSON, or undefined when it does not answer. */
  readonly readyz: () => Promise<Readyz | undefined>
}

export interface Readyz {
  readonly status: "ready" | "not_ready"
  readonly checks: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly detail?: unknown }>
}

const TAIL_LINES = 200
const ERROR_LINES = 300
const ERROR_LINE = /"level":"(ERROR|FATAL)"|Unhandled|uncaught|FATAL/i

const spawnRole = async (options: {
  readonly name: string
  readonly role: Role
  readonly env: Record<string, string>
  readonly logDir: string
}): Promise<RoleProcess> => {
  const port = await freePort()
  const logFile = join(options.logDir, `${options.name.replace("#", "-")}.log`)
  const log: WriteStream = createWriteStream(logFile, { flags: "a" })
  const child: ChildProcess = spawn(process.execPath, [cli, "start", "--role", options.role, "--port", String(port)], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const tail: Array<string> = []
  const errors: Array<string> = []
  /** One per output stream: a chunk may end inside a line, finished by the stream's next chunk. */
  const collector = () => {
    let partial = ""
    return (chunk: Buffer) => {
      log.write(chunk)
      const lines = (partial + chunk.toString("utf8")).split("\n")
      partial = lines.pop() ?? ""
      for (const line of lines) {
        if (line.trim() === "") continue
        tail.push(line)
        if (tail.length > TAIL_LINES) tail.shift()
        if (ERROR_LINE.test(line)) {
          errors.push(line)
          if (errors.length > ERROR_LINES) errors.shift()
        }
      }
    }
  }
  child.stdout!.on("data", collector())
  child.stderr!.on("data", collector())
  let exit: ExitInfo | null = null
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal, at: Date.now() }
      log.end()
      resolve(exit)
    })
  })
  const url = `http://127.0.0.1:${port}`
  const gone = (ms: number) =>
    Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())])
  return {
    name: options.name,
    role: options.role,
    url,
    pid: child.pid!,
    logFile,
    exit: () => exit,
    tail: (lines = 40) => tail.slice(-lines).join("\n"),
    errorLines: () => errors,
    kill: async () => {
      if (exit !== null) return
      child.kill("SIGKILL")
      if ((await gone(10_000)) === undefined) throw new Error(`${options.name} (pid ${child.pid}) survived SIGKILL for 10 s`)
    },
    stop: async () => {
      if (exit !== null) return
      child.kill("SIGTERM")
      if ((await gone(10_000)) !== undefined) return
      child.kill("SIGKILL")
      await gone(10_000)
    },
    readyz: () =>
      fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })
        .then((r) => r.json() as Promise<Readyz>)
        .catch(() => undefined)
  }
}

/** Partitions a worker owns, from its `/readyz` (undefined when it does not answer). */
export const ownedPartitions = async (p: RoleProcess): Promise<number | undefined> => {
  const r = await p.readyz()
  const check = r?.checks.find((c) => c.name === "partitions")
  const owned = (check?.detail as { owned?: unknown } | undefined)?.owned
  return typeof owned === "number" ? owned : undefined
}

/** Until `p` answers `/readyz` with 200; fails at once with its output if it exits first. */
export const awaitReady = (p: RoleProcess, timeoutMs: number): Promise<Readyz> =>
  waitFor(async () => {
    const exit = p.exit()
    if (exit !== null) throw new Error(`${p.name} exited (${exit.code ?? exit.signal}) before it was ready:\n${p.tail()}`)
    const r = await p.readyz()
    return r?.status === "ready" ? r : undefined
  }, `${p.name} to be ready`, timeoutMs, 200).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\n${p.name} /readyz: ${JSON.stringify(await p.readyz())}\n${p.tail()}`)
  })

// --- the cluster ----------------------------------------------------------------------------

export interface Cluster {
  readonly databaseUrl: string
  readonly natsUrl: string
  readonly streamName: string
  readonly subjectPrefix: string
  readonly partitions: number
  readonly logDir: string
  readonly ingress: () => RoleProcess
  readonly projector: () => RoleProcess
  /** The current incarnation of each worker slot (`a`, `b`). */
  readonly workers: () => ReadonlyArray<RoleProcess>
  /** Every process ever started, in start order (killed incarnations included). */
  readonly history: () => ReadonlyArray<RoleProcess>
  /** Starts a new incarnation of worker slot `slot` (the previous one must be gone). */
  readonly restartWorker: (slot: number) => Promise<RoleProcess>
  /** Until every partition is owned by a live worker and every worker owns some. */
  readonly awaitPartitionsOwned: (timeoutMs: number) => Promise<void>
  /** Stops every process (SIGTERM); removes the log directory unless `keepLogs`. */
  readonly stop: (keepLogs: boolean) => Promise<void>
}

/**
 * A fresh database and a fresh stream on `servers`, then the ingress (which migrates the
 * database), then two workers and the projector; resolves once every process is ready and
 * every partition has an owner.
 */
export const startCluster = async (servers: ChaosServers, options: { readonly partitions: number; readonly tag: string }): Promise<Cluster> => {
  const logDir = mkdtempSync(join(tmpdir(), `sumeru-chaos-${options.tag}-`))
  const databaseUrl = servers.pg.createDatabase(`chaos_${options.tag}`)
  const streamName = `CHAOS_${options.tag.toUpperCase()}`
  const subjectPrefix = `chaos_${options.tag}`
  const env = (name: string): Record<string, string> => {
    const dataDir = join(logDir, `data-${name}`)
    mkdirSync(dataDir, { recursive: true })
    return {
      DATABASE_URL: databaseUrl,
      NATS_URL: servers.nats.url,
      NATS_STREAM: streamName,
      NATS_SUBJECT_PREFIX: subjectPrefix,
      SUMERU_PARTITIONS: String(options.partitions),
      SUMERU_DATA_DIR: dataDir,
      SHOPIFY_API_KEY: "chaos-api-key",
      SHOPIFY_API_SECRET: CHAOS_APP_SECRET,
      LOG_FORMAT: "json",
      ...testKeyEnv
    }
  }
  const history: Array<RoleProcess> = []
  const start = async (name: string, role: Role) => {
    const p = await spawnRole({ name, role, env: env(name.replace(/#.*/, "")), logDir })
    history.push(p)
    return p
  }
  const stopAll = () => Promise.all(history.map((p) => p.stop()))
  try {
    // The ingress first: it applies the migrations before anyone else needs the tables.
    const ingress = await start("ingress", "ingress")
    await awaitReady(ingress, 60_000)
    const slots = ["a", "b"]
    const incarnations = [0, 0]
    const workers = await Promise.all(slots.map((s) => start(`worker-${s}#0`, "worker")))
    const projector = await start("projector", "projector")
    await Promise.all([...workers, projector].map((p) => awaitReady(p, 60_000)))

    const awaitPartitionsOwned = async (timeoutMs: number) => {
      let seen: ReadonlyArray<number | undefined> = []
      await waitFor(async () => {
        const owned = await Promise.all(workers.map(ownedPartitions))
        seen = owned
        const total = owned.reduce<number>((sum, n) => sum + (n ?? 0), 0)
        return owned.every((n) => n !== undefined && n > 0) && total === options.partitions ? true : undefined
      }, `all ${options.partitions} partitions owned by the two workers`, timeoutMs, 200).catch((e: unknown) => {
        const last = workers.map((w, i) => `${w.name} ${seen[i] ?? "no answer"}`).join(", ")
        throw new Error(`${e instanceof Error ? e.message : String(e)} (last seen: ${last})`)
      })
    }
    await awaitPartitionsOwned(60_000)

    return {
      databaseUrl,
      natsUrl: servers.nats.url,
      streamName,
      subjectPrefix,
      partitions: options.partitions,
      logDir,
      ingress: () => ingress,
      projector: () => projector,
      workers: () => workers,
      history: () => history,
      restartWorker: async (slot) => {
        const previous = workers[slot]!
        if (previous.exit() === null) throw new Error(`${previous.name} is still running`)
        incarnations[slot] = incarnations[slot]! + 1
        const next = await start(`worker-${slots[slot]}#${incarnations[slot]}`, "worker")
        workers[slot] = next
        return next
      },
      awaitPartitionsOwned,
      stop: async (keepLogs) => {
        await stopAll()
        if (!keepLogs) rmSync(logDir, { recursive: true, force: true })
      }
    }
  } catch (e) {
    await stopAll()
    throw new Error(`${String(e)}\n(process logs kept in ${logDir})`)
  }
}
