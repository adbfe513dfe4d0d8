/**
 * The Sumeru server under test for `bench:ingress`: `node src/cli.ts start --role … --port N`
 * as a child process, exactly as deployed (its own event loop, its own memory), with only
 * the environment telling it where its database and log are.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { appendFileSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"

export interface ServerProcess {
  readonly pid: number
  readonly url: string
  readonly port: number
  /** The last lines the server wrote to stdout/stderr (its logs: warnings and errors). */
  readonly output: () => ReadonlyArray<string>
  /** Lines that look like errors (level ERROR/FATAL, uncaught exceptions), all of them. */
  readonly errorLines: () => ReadonlyArray<string>
  /** Set once the process has exited. */
  readonly exited: () => { readonly code: number | null; readonly signal: NodeJS.Signals | null } | null
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  readonly stop: (graceMs?: number) => Promise<void>
}

const repoRoot = resolve(import.meta.dirname, "..", "..")

export const startServer = async (options: {
  readonly role: string
  readonly port: number
  readonly env: Record<string, string | undefined>
  readonly execArgv?: ReadonlyArray<string>
  readonly readyTimeoutMs?: number
  /** The server's `--log-level` (default warn). */
  readonly logLevel?: string | undefined
  /** Appends everything the server writes to this file. */
  readonly logFile?: string | undefined
}): Promise<ServerProcess> => {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.execArgv ?? []), join(repoRoot, "src", "cli.ts"), "start", "--role", options.role, "--port", String(options.port), "--log-level", options.logLevel ?? "warn"],
    { cwd: repoRoot, env: options.env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] }
  )
  const tail: Array<string> = []
  const errors: Array<string> = []
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  const exitedPromise = new Promise<void>((done) =>
    child.on("exit", (code, signal) => {
      exit = { code, signal }
      done()
    })
  )
  const collect = (chunk: Buffer) => {
    if (options.logFile !== undefined) appendFileSync(options.logFile, chunk)
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue
      tail.push(line)
      if (tail.length > 50) tail.shift()
      if (/"level":"(ERROR|FATAL)"|\b(Error|TypeError|RangeError):|Unhandled|FATAL/i.test(line) && errors.length < 1000) errors.push(line)
    }
  }
  child.stdout!.on("data", collect)
  child.stderr!.on("data", collect)
  const url = `http://127.0.0.1:${options.port}`
  const server: ServerProcess = {
    pid: child.pid!,
    url,
    port: options.port,
    output: () => tail,
    errorLines: () => errors,
    exited: () => exit,
    stop: async (graceMs = 15_000) => {
      if (exit !== null) return
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs)
      await exitedPromise
      clearTimeout(timer)
    }
  }
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000)
  for (;;) {
    if (exit !== null) {
      throw new Error(`the server exited during start-up (${JSON.stringify(exit)}):\n${tail.join("\n")}`)
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) return server
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop(2000)
      throw new Error(`the server was not ready within ${options.readyTimeoutMs ?? 90_000} ms:\n${tail.join("\n")}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Resident set (VmRSS) and its high-water mark (VmHWM) of `pid`, MB; null once it is gone. */
export const memoryOf = (pid: number): { readonly rss: number; readonly hwm: number } | null => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)
    return rss === null || hwm === null ? null : { rss: Number(rss[1]) / 1024, hwm: Number(hwm[1]) / 1024 }
  } catch {
    return null
  }
}
