/**
 * The real program, `node src/cli.ts start --role <role>`, as child processes that a test may
 * SIGKILL: for crash tests of work that spans processes (Flowmend jobs). Every process of a
 * test shares its environment (database, NATS stream, Shopify configuration) and gets its own
 * HTTP port and data directory. Output is kept in memory (the last lines) for failure messages.
 *
 * `processOfClientPort` answers "which of these processes has the connection from this client
 * port" — with `pg_locks` and `pg_stat_activity.client_port` that tells which worker holds a
 * partition's lock, i.e. owns the partition (Linux: it reads the process's sockets in /proc).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "./pgServer.ts"

const cli = fileURLToPath(new URL("../../src/cli.ts", import.meta.url))
const repoRoot = fileURLToPath(new URL("../..", import.meta.url))

export type Role = "all" | "ingress" | "worker" | "projector"

export interface SumeruProcess {
  readonly name: string
  readonly role: Role
  readonly url: string
  readonly child: ChildProcess
  readonly pid: number
  /** Exit code or signal once it has exited, else null. */
  readonly exit: () => { readonly code: number | null; readonly signal: NodeJS.Signals | null } | null
  /** The last lines of its stdout and stderr. */
  readonly tail: (lines?: number) => string
  /** `GET /readyz` answered 200. */
  readonly ready: () => Promise<boolean>
  /** SIGKILL (a real crash: no finalizer runs); resolves once the process is gone. */
  readonly kill: () => Promise<void>
  /** SIGTERM, SIGKILL after 10 s; resolves once the process is gone. */
  readonly stop: () => Promise<void>
}

const TAIL = 300
/** `SUMERU_PROCESS_LOG=<file>`: every line of every process, time-stamped, appended there (debugging). */
const debugLog = process.env["SUMERU_PROCESS_LOG"]

/** Starts `sumeru start --role <role>` with `env` on top of this process's environment. */
export const startSumeru = async (options: { readonly name: string; readonly role: Role; readonly env: Record<string, string> }): Promise<SumeruProcess> => {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), `sumeru-${options.name}-`))
  const child = spawn(process.execPath, [cli, "start", "--role", options.role, "--port", String(port)], {
    cwd: repoRoot,
    env: { ...process.env, SUMERU_DATA_DIR: dataDir, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  let partial = ""
  const collect = (chunk: Buffer) => {
    const parts = (partial + chunk.toString("utf8")).split("\n")
    partial = parts.pop() ?? ""
    for (const line of parts) {
      if (line.trim() === "") continue
      lines.push(line)
      if (debugLog !== undefined) appendFileSync(debugLog, `${Date.now()} [${options.name}] ${line}\n`)
    }
    if (lines.length > TAIL) lines.splice(0, lines.length - TAIL)
  }
  child.stdout!.on("data", collect)
  child.stderr!.on("data", collect)
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal }
      rmSync(dataDir, { recursive: true, force: true })
      resolve()
    })
  })
  const gone = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())])
  const url = `http://127.0.0.1:${port}`
  return {
    name: options.name,
    role: options.role,
    url,
    child,
    pid: child.pid!,
    exit: () => exit,
    tail: (n = 40) => lines.slice(-n).join("\n"),
    ready: () => fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false),
    kill: async () => {
      if (exit !== null) return
      child.kill("SIGKILL")
      if (!(await gone(10_000))) throw new Error(`${options.name} (pid ${child.pid}) survived SIGKILL for 10 s`)
    },
    stop: async () => {
      if (exit !== null) return
      child.kill("SIGTERM")
      if (await gone(10_000)) return
      child.kill("SIGKILL")
      await gone(10_000)
    }
  }
}

/** Until `p` answers `/readyz` with 200; fails at once, with its output, if it exits first. */
export const awaitReady = async (p: SumeruProcess, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const exit = p.exit()
    if (exit !== null) throw new Error(`${p.name} exited (${exit.code ?? exit.signal}) before it was ready:\n${p.tail()}`)
    if (await p.ready()) return
    if (Date.now() > deadline) throw new Error(`${p.name} was not ready within ${timeoutMs} ms:\n${p.tail()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Socket inode → local TCP port, over every TCP socket of this network namespace. */
const localPortsByInode = (): Map<string, number> => {
  const ports = new Map<string, number>()
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string
    try {
      text = readFileSync(file, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10) continue
      const local = f[1]!
      ports.set(f[9]!, Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16))
    }
  }
  return ports
}

/** Local TCP ports of the sockets `pid` has open (Linux /proc). */
export const tcpPortsOf = (pid: number): Set<number> => {
  const byInode = localPortsByInode()
  const ports = new Set<number>()
  let fds: Array<string>
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return ports
  }
  for (const fd of fds) {
    let target: string
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
    const port = inode === undefined ? undefined : byInode.get(inode)
    if (port !== undefined) ports.add(port)
  }
  return ports
}

/** Which of `processes` (live ones) has the client end of a connection from local port `clientPort`. */
export const processOfClientPort = <P extends SumeruProcess>(processes: ReadonlyArray<P>, clientPort: number): P | undefined =>
  processes.find((p) => p.exit() === null && tcpPortsOf(p.pid).has(clientPort))
