/**
 * LISTEN that survives the database: a notification channel followed on a dedicated
 * connection, re-established with backoff when that connection dies (a PostgreSQL restart, a
 * network cut). Notifications sent while nobody listened are gone, so every (re)start also
 * calls `onNotify` once with `undefined`: a listener that uses them as wake-ups then re-reads
 * whatever it missed.
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Queue, Schedule, type Scope } from "effect"
import type { SqlClient } from "effect/sql"

/** The channel that wakes readers of the global log (`PgLogWakeups`). */
export const LOG_CHANNEL = "sumeru_events"

/**
 * Wakes the log's readers in every process. Inside a transaction PostgreSQL delivers it at the
 * commit (and holds its notify lock through the commit's WAL flush: never in a hot transaction).
 * `sender` names the process whose own readers were woken already (`PgLogWakeups`): its
 * listener skips the echo; the default wakes every listener, the sender's too.
 */
export const notifyLogReaders = (sql: SqlClient.SqlClient, sender = "") => Effect.asVoid(sql`SELECT pg_notify(${LOG_CHANNEL}, ${sender})`)

const reconnect = Schedule.min([Schedule.exponential(Duration.millis(200)), Schedule.spaced(Duration.seconds(5))])

/** Follows `channel` in a fiber of the current scope until the scope closes. */
export const listenForever = (
  channel: string,
  onNotify: (payload: string | undefined) => Effect.Effect<void>
): Effect.Effect<void, never, PgClient.PgClient | Scope.Scope> =>
  Effect.gen(function*() {
    const pg = yield* PgClient.PgClient
    let lost = false
    const session = Effect.scoped(Effect.gen(function*() {
      const queue = yield* pg.listen(channel)
      if (lost) yield* Effect.logInfo(`LISTEN ${channel} re-established`)
      lost = false
      yield* onNotify(undefined)
      return yield* Effect.forever(Effect.flatMap(Queue.take(queue), (n) => onNotify(n.payload)))
    })).pipe(
      Effect.tapCause((cause) =>
        Effect.suspend(() => {
          if (lost) return Effect.void
          lost = true
          return Effect.logWarning(`LISTEN ${channel} lost; re-establishing`, cause)
        })
      )
    )
    yield* Effect.forkScoped(Effect.retry(session, { schedule: reconnect }))
  })
