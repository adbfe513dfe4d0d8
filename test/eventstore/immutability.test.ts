/**
 * The log is immutable (issue 10 §4): the database refuses UPDATE, DELETE and TRUNCATE on
 * `events`, whoever asks. The owning role (which bypasses row-level security) is stopped by a
 * statement-level trigger; the tenant role has no such grant. Direct SQL as each role, on
 * PostgreSQL 15 and PGlite.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { asTenant } from "../../adapters/postgres/Tenancy.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"

/** The SQLSTATE and message of a failed statement. */
const refusal = (error: SqlError) => {
  const cause = error.reason.cause as { code?: string; message?: string } | undefined
  return { code: cause?.code, message: cause?.message ?? "" }
}

const SHOP = "immutable.myshopify.com"

for (const backend of backends) {
  const StoreLayer = PgEventStore.layer.pipe(Layer.provideMerge(testSealing()), Layer.provideMerge(backend.layer()))
  describe(`the log is immutable on ${backend.name}`, () => {
    layer(StoreLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
      const seed = (streamId: string) =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* store.append(streamId, SHOP, "no_stream", [ev("imm.one", { n: 1 }), ev("imm.two", { n: 2 })], meta())
        })

      const storedRows = (streamId: string) =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          return yield* sql<{ stream_version: number; type: string; data: unknown }>`
            SELECT stream_version, type, data FROM events WHERE stream_id = ${streamId} ORDER BY stream_version`
        })

      it.effect("the owning role's UPDATE, DELETE and TRUNCATE are refused by the trigger, even when no row matches", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* seed("imm-owner")
          const before = yield* storedRows("imm-owner")
          const attempts = [
            sql`UPDATE events SET data = '{"n":99}' WHERE stream_id = 'imm-owner'`,
            sql`UPDATE events SET type = 'x' WHERE false`,
            sql`DELETE FROM events WHERE stream_id = 'imm-owner'`,
            sql`DELETE FROM events WHERE false`,
            sql`TRUNCATE events`
          ]
          for (const attempt of attempts) {
            const { code, message } = refusal(yield* Effect.flip(attempt))
            assert.strictEqual(code, "SU004", message)
            assert.match(message, /events are immutable: (UPDATE|DELETE|TRUNCATE) on events is refused/)
          }
          assert.deepStrictEqual(yield* storedRows("imm-owner"), before)
          assert.strictEqual(before.length, 2)
        }))

      it.effect("the tenant role has no UPDATE, DELETE or TRUNCATE on events, even on its own shop's rows", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* seed("imm-tenant")
          const before = yield* storedRows("imm-tenant")
          const privileges = yield* sql<{ privilege: string; granted: boolean }>`
            SELECT p AS privilege, has_table_privilege('sumeru_tenant', 'events', p) AS granted
              FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p`
          assert.deepStrictEqual(
            Object.fromEntries(privileges.map((p) => [p.privilege, p.granted])),
            { SELECT: true, INSERT: true, UPDATE: false, DELETE: false, TRUNCATE: false }
          )
          // it sees its rows, and still may not touch them
          const visible = yield* asTenant(SHOP, sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id = 'imm-tenant'`)
          assert.deepStrictEqual(visible, [{ n: 2 }])
          const attempts = [
            sql`UPDATE events SET data = '{"n":99}' WHERE stream_id = 'imm-tenant'`,
            sql`DELETE FROM events WHERE stream_id = 'imm-tenant'`,
            sql`TRUNCATE events`
          ]
          for (const attempt of attempts) {
            const { code, message } = refusal(yield* Effect.flip(asTenant(SHOP, attempt)))
            assert.strictEqual(code, "42501", message) // insufficient_privilege
            assert.match(message, /permission denied/)
          }
          assert.deepStrictEqual(yield* storedRows("imm-tenant"), before)
        }))

      it.effect("appending still works: the log only grows", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          yield* seed("imm-append")
          yield* store.append("imm-append", SHOP, 2, [ev("imm.three", { n: 3 })], meta())
          const events = yield* Stream.runCollect(store.readStream("imm-append"))
          assert.deepStrictEqual(events.map((e) => e.type), ["imm.one", "imm.two", "imm.three"])
        }))
    })
  })
}
