/**
 * Starts the real servers the integration suites need, once per test run:
 * PostgreSQL 15 (throw-away cluster; suites create their own databases on it) and
 * nats-server with JetStream (suites use their own stream names or subjects). Brings the bundled
 * server (`dist/server`, what `npm start` runs) up to date for the suites that start it.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"
import { startNatsServer } from "./natsServer.ts"
import { startPgServer } from "./pgServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string
    pgVersion: string
    natsUrl: string
  }
}

export default async function setup(project: TestProject) {
  execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/build-server.ts", import.meta.url)), "--if-stale"], { stdio: "inherit" })
  const pg = await startPgServer()
  const nats = await startNatsServer().catch(async (e) => {
    await pg.stop()
    throw e
  })
  project.provide("pgUrl", pg.url)
  project.provide("pgVersion", pg.version)
  project.provide("natsUrl", nats.url)
  return async () => {
    await Promise.all([pg.stop(), nats.stop()])
  }
}
