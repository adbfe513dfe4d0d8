/**
 * Starts the real servers the integration suites need, once per test run:
 * PostgreSQL 15 (throw-away cluster). Suites create their own databases on it.
 */
import type { TestProject } from "vitest/node"
import { startPgServer } from "./pgServer.ts"

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string
    pgVersion: string
  }
}

export default async function setup(project: TestProject) {
  const pg = await startPgServer()
  project.provide("pgUrl", pg.url)
  project.provide("pgVersion", pg.version)
  return async () => {
    await pg.stop()
  }
}
