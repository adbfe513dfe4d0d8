/**
 * The database for one CLI command: `DATABASE_URL` (PostgreSQL) or the embedded PGlite in
 * `SUMERU_DATA_DIR`, opened for the command and closed after it (the embedded database is
 * locked meanwhile, so a running server makes the command stop with a clear message).
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Option, Redacted } from "effect"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import * as Database from "../../adapters/postgres/Database.ts"
import { coreLayer, type CoreServices } from "../CoreLayer.ts"
import { type CliFailure, userFacing } from "./errors.ts"

/** Runs `effect` with the core services (migrated database, event store); failures become one line. */
export const withCore = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, CliFailure, Exclude<R, CoreServices>> =>
  userFacing(Effect.provide(effect, coreLayer(Database.layerFromConfig, KeyRing.layerForCommand)))

/** `DATABASE_URL` when set and not empty (the same rule as `Database.layerFromConfig`). */
export const databaseUrl = Effect.map(
  Config.option(Config.Redacted("DATABASE_URL")),
  (url) => Option.filter(url, (u) => Redacted.value(u) !== "")
)

export interface MigrationReport {
  readonly applied: ReadonlyArray<{ readonly id: number; readonly name: string }>
  readonly total: number
}

/**
 * Applies pending migrations and says which ran. On PostgreSQL the migrator runs on a plain
 * connection, so its own answer is exact. The embedded database migrates while it opens (inside
 * `Database.layerEmbedded`), so there the report is read back from the migrations table: rows
 * stamped after this command started. PGlite runs in this process, on this machine's clock.
 */
export const migrate: Effect.Effect<MigrationReport, CliFailure> = userFacing(Effect.gen(function*() {
  const url = yield* databaseUrl
  if (Option.isSome(url)) {
    return yield* Effect.gen(function*() {
      const ran = yield* Database.migrate
      return { applied: ran.map(([id, name]) => ({ id, name })), total: yield* Database.countMigrations }
    }).pipe(Effect.provide(PgClient.layer({ url: url.value, maxConnections: 1, applicationName: "sumeru-cli" })))
  }
  const started = new Date()
  return yield* Effect.gen(function*() {
    const applied = yield* Database.migrationsAppliedSince(started)
    return { applied, total: yield* Database.countMigrations }
  }).pipe(Effect.provide(Database.layerFromConfig))
}))
