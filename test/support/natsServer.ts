/**
 * Starts a throw-away `nats-server -js` on a free loopback port with a temp store dir.
 * Fault-injection suites can stop it and start it again on the same port and store dir.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./pgServer.ts"

export interface NatsServer {
  readonly url: string
  readonly port: number
  readonly stop: () => Promise<void>
  /**
   * Stops the server (SIGTERM: a clean shutdown, JetStream's file store flushed) and keeps
   * its store dir; clients see the connection drop. No-op when already down.
   */
  readonly halt: () => Promise<void>
  /** Starts it again on the same port and store dir; resolves once it accepts connections. */
  readonly resume: () => Promise<void>
  /** The JetStream store dir (`-sd`). */
  readonly storeDir: string
}

const waitForPort = (port: number, child: ChildProcess, deadline: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`nats-server exited with ${child.exitCode}`))
      const socket = connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resolve()
      })
      socket.once("error", () => {
        socket.destroy()
        if (Date.now() > deadline) return reject(new Error("nats-server did not start in time"))
        setTimeout(attempt, 50)
      })
    }
    attempt()
  })

const exited = (child: ChildProcess): Promise<unknown> =>
  new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r)))

export const startNatsServer = async (): Promise<NatsServer> => {
  const dir = mkdtempSync(join(tmpdir(), "sumeru-nats-"))
  const port = await freePort()
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn("nats-server", ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" })
    child.on("error", () => undefined)
    await waitForPort(port, child, Date.now() + 20_000).catch((e) => {
      throw new Error(`${String(e)} — is nats-server installed? (apt-get install -y nats-server)`)
    })
    return child
  }
  let child: ChildProcess | null = await launch()
  const halt = async () => {
    const running = child
    child = null
    if (running === null) return
    running.kill("SIGTERM")
    await exited(running)
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir,
    halt,
    resume: async () => {
      if (child === null) child = await launch()
    },
    stop: async () => {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
