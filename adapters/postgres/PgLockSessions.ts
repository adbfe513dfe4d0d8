/**
 * Lock sessions on PostgreSQL (`LockSessions`): session advisory locks on one watched
 * connection (`AdvisoryLockSession.ts`), and `pg_locks` for who holds a lock. In the embedded
 * mode (PGlite) every lock is granted, no session ends, and nobody else holds anything.
 */
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { type LockHolder, type LockKey, LockSessions } from "../../src/locks/LockSessions.ts"
import * as AdvisoryLockSession from "./AdvisoryLockSession.ts"
import { DatabaseMode } from "./Database.ts"

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const mode = yield* DatabaseMode

  /** The session holding `key`'s advisory lock in this database (the key mapped as `AdvisoryLockSession` maps it). */
  const holder = (key: LockKey) => {
    if (mode.kind === "embedded") return Effect.succeed(Option.none<LockHolder>())
    const k = typeof key.key === "number" ? sql`${key.key}::int4` : sql`hashtext(${key.key})`
    return Effect.map(
      sql<{ pid: number; application_name: string | null; addr: string | null }>`
        SELECT l.pid, a.application_name, host(a.client_addr) AS addr
          FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid::bigint = (hashtext(${key.space})::bigint & 4294967295)
           AND l.objid::bigint = ((${k})::bigint & 4294967295)
         LIMIT 1`,
      (rows) =>
        Option.map(Option.fromNullishOr(rows[0]), (r): LockHolder => ({
          pid: r.pid,
          applicationName: r.application_name,
          clientAddress: r.addr
        }))
    )
  }

  return LockSessions.of({
    open: (options) =>
      AdvisoryLockSession.make(options).pipe(
        Effect.provideService(SqlClient.SqlClient, sql),
        Effect.provideService(DatabaseMode, mode)
      ),
    holder
  })
})

export const layer = Layer.effect(LockSessions, make)
