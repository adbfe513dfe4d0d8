/**
 * The SQL connection for the whole process: a real PostgreSQL (`DATABASE_URL`) or the
 * embedded PGlite database (PostgreSQL compiled to WebAssembly, data in `SUMERU_DATA_DIR`),
 * spoken to by the same wire-protocol driver through an in-memory connection (`PgliteWire.ts`). Migrations run when the
 * layer is built, so anything built on it sees a migrated database.
 */
import { PGlite } from "@electric-sql/pglite"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import * as Migrator from "effect/sql/Migrator"
import { SqlClient } from "effect/sql/SqlClient"
import { execFile } from "node:child_process"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { extname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { migrations } from "../../migrations/index.ts"
import { pgliteConnection } from "./PgliteWire.ts"

/** The embedded database is already open in another process. */
export class EmbeddedDatabaseInUse extends Error {
  readonly _tag = "EmbeddedDatabaseInUse"
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * PGlite has no server process to arbitrate access: two processes opening the same data
 * directory would corrupt it. A pid lock file makes the second one stop with a clear message
 * (a stale lock of a dead process is taken over).
 */
const lockDataDir = (dataDir: string): (() => void) => {
  const lockPath = join(dataDir, "sumeru.lock")
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx")
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockPath, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      const holder = Number(readFileSync(lockPath, "utf8").trim())
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new EmbeddedDatabaseInUse(
          `The embedded database in ${dataDir} is in use by process ${holder} (a running \`npm start\`?). ` +
            "Stop it first, or point DATABASE_URL at a PostgreSQL server to share one database."
        )
      }
      rmSync(lockPath, { force: true })
    }
  }
  throw new EmbeddedDatabaseInUse(`Could not lock ${dataDir}`)
}

/** Which kind of database this process talks to; adapters differ only where it matters. */
export class DatabaseMode extends Context.Service<DatabaseMode, {
  /** `embedded`: one PGlite session (one connection, transactions serialize, no LISTEN). */
  readonly kind: "postgres" | "embedded"
}>()("sumeru/postgres/DatabaseMode") {}

/** Applies pending migrations from `migrations/` (idempotent; concurrent runs are skipped). */
export const migrate = PgMigrator.run({ loader: Migrator.fromGlob(migrations) }).pipe(
  // the migrator can dump the schema, through the file system and a child process (not asked for here)
  Effect.provide(NodeServices.layer)
)

const MigrationsLayer = Layer.effectDiscard(migrate)

type DbLayer = Layer.Layer<PgClient.PgClient | SqlClient | DatabaseMode, unknown>

/** Connects to a real PostgreSQL server. */
export const layerPostgres = (url: Redacted.Redacted, options?: { readonly maxConnections?: number }): DbLayer =>
  MigrationsLayer.pipe(
    Layer.provideMerge(PgClient.layer({
      url,
      maxConnections: options?.maxConnections ?? 10,
      applicationName: "sumeru"
    })),
    Layer.merge(Layer.succeed(DatabaseMode, { kind: "postgres" }))
  )

/**
 * PGlite's buffer cache lives in this process's memory (PostgreSQL's default is 128 MB, all of it
 * touched at start). 16 MB holds the demo's working set; a page it misses is a read from the OS
 * page cache. Measured with the data on disk, as `npm start` keeps it (`BENCH_PGLITE_ON_DISK=1
 * BENCH_BACKENDS=pglite npm run bench:pipeline`, 1,000 shops, two runs each): at 1,000 msg/s
 * p95 41 and 35 ms at 16 MB against 36 and 49 ms at 32 MB, the same CPU per message (1.02, 0.99
 * against 1.00, 1.04 ms); 2,000 msg/s sustained by both. An idle `npm start` is ~15 MB smaller
 * than at 32 MB, and ~100 MB smaller than at the default.
 */
const EMBEDDED_SHARED_BUFFERS = "16MB"

/** Creates the cluster in a child process (pgliteInitdb.ts); if that fails, PGlite creates it in this one, and says so. */
const createClusterApart = (dataDir: string) =>
  Effect.promise(() =>
    new Promise<string | null>((resolve) => {
      // `.ts` beside this module in the source, `.js` in the bundled server (scripts/build-server.ts)
      const script = fileURLToPath(new URL(`./pgliteInitdb${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
      execFile(process.execPath, [script, dataDir], { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) =>
        resolve(error === null ? null : (stderr.trim().split("\n").at(-1) || error.message)))
    })
  ).pipe(Effect.flatMap((failure) =>
    failure === null ? Effect.void : Effect.logWarning(`the embedded database's cluster could not be created in a child process (${failure}); creating it in this one`)
  ))

/**
 * Opens (or creates) the PGlite database in `dataDir` (or in memory when `dataDir` is
 * undefined) for a one-connection pool: PGlite is a single session, so transactions must not
 * interleave.
 */
export const layerEmbedded = (dataDir: string | undefined): DbLayer =>
  Layer.unwrap(Effect.gen(function*() {
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true })
      const unlock = yield* Effect.try({ try: () => lockDataDir(dataDir), catch: (e) => e as EmbeddedDatabaseInUse })
      yield* Effect.addFinalizer(() => Effect.sync(unlock))
      // a new directory's cluster is created in a child process (see pgliteInitdb.ts); should
      // that fail, PGlite below creates it here as before
      if (!existsSync(join(dataDir, "PG_VERSION"))) yield* createClusterApart(dataDir)
    }
    const db = yield* Effect.acquireRelease(
      Effect.promise(async () => {
        const pg = new PGlite(dataDir, { startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`] })
        await pg.waitReady
        return pg
      }),
      (pg) => Effect.promise(() => pg.close()).pipe(Effect.ignore)
    )
    return MigrationsLayer.pipe(
      Layer.provideMerge(PgClient.layer({
        // the wire protocol handed to PGlite in memory (see PgliteWire.ts), not over a socket
        stream: pgliteConnection(db),
        ssl: false,
        username: "postgres",
        database: "postgres",
        maxConnections: 1,
        applicationName: "sumeru-embedded"
      })),
      Layer.merge(Layer.succeed(DatabaseMode, { kind: "embedded" }))
    )
  }))

/** `DATABASE_URL` when set, otherwise the embedded database in `SUMERU_DATA_DIR` (default `./data/pglite`). */
export const layerFromConfig: DbLayer = Layer.unwrap(Effect.gen(function*() {
  const url = yield* Config.option(Config.Redacted("DATABASE_URL"))
  if (Option.isSome(url) && Redacted.value(url.value) !== "") return layerPostgres(url.value)
  const dataDir = yield* Config.String("SUMERU_DATA_DIR").pipe(Config.withDefault("./data"))
  return layerEmbedded(join(dataDir, "pglite"))
}))

/** The migrator's own table (`PgMigrator`'s default). */
const MIGRATIONS_TABLE = "effect_sql_migrations"

/** How many migrations the database has applied in all. */
export const countMigrations = Effect.gen(function*() {
  const sql = yield* SqlClient
  const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(MIGRATIONS_TABLE)}`
  return rows[0]?.n ?? 0
})

/** Migrations stamped at or after `since` (the embedded database migrates while it opens). */
export const migrationsAppliedSince = (since: Date) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<{ migration_id: number; name: string }>`
      SELECT migration_id, name FROM ${sql(MIGRATIONS_TABLE)} WHERE created_at >= ${since} ORDER BY migration_id`
    return rows.map((r) => ({ id: r.migration_id, name: r.name }))
  })
