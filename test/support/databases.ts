/**
 * Database layers for tests: a fresh database on the shared PostgreSQL 15 server, or a fresh
 * in-memory PGlite. The same behavioural suites run against both.
 */
import { execFileSync } from "node:child_process"
import { Redacted } from "effect"
import { inject } from "vitest"
import { layerEmbedded, layerPostgres } from "../../adapters/postgres/Database.ts"

let counter = 0

/** Creates an empty database on the test server and returns its URL. */
export const freshPostgresUrl = (): string => {
  const base = inject("pgUrl")
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`
  execFileSync("psql", [base, "-qc", `CREATE DATABASE "${name}"`], { stdio: "pipe" })
  return base.replace(/\/postgres$/, `/${name}`)
}

export const postgresLayer = (options?: { readonly maxConnections?: number }) =>
  layerPostgres(Redacted.make(freshPostgresUrl()), options)

export const pgliteLayer = () => layerEmbedded(undefined)

export const backends = [
  { name: "PostgreSQL 15", layer: () => postgresLayer() },
  { name: "PGlite", layer: () => pgliteLayer() }
] as const
