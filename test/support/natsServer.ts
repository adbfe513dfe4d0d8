/**
 * Starts a throw-away `nats-server -js` on a free loopback port with a temp store dir.
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

export const startNatsServer = async (): Promise<NatsServer> => {
  const dir = mkdtempSync(join(tmpdir(), "sumeru-nats-"))
  const port = await freePort()
  const child = spawn("nats-server", ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" })
  child.on("error", () => undefined)
  await waitForPort(port, child, Date.now() + 20_000).catch((e) => {
    throw new Error(`${String(e)} — is nats-server installed? (apt-get install -y nats-server)`)
  })
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: async () => {
      child.kill("SIGTERM")
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
