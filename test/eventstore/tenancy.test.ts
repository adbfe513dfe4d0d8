/**
 * Invariant 6 at the database level: a session scoped to shop A cannot see or write shop B's
 * rows, whatever SQL it runs. Direct SQL, on PostgreSQL 15 and PGlite.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import * as PgEventStore from "../../adapters/postgres/PgEventStore.ts"
import { asTenant } from "../../adapters/postgres/Tenancy.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { backends } from "../support/databases.ts"
import { ev, meta } from "../support/fixtures.ts"
import { testSealing } from "../support/keys.ts"

for (const backend of backends) {
  const StoreLayer = PgEventStore.layer.pipe(Layer.provideMerge(testSealing()), Layer.provideMerge(backend.layer()))
  describe(`row-level security on ${backend.name}`, () => {
    layer(StoreLayer, { excludeTestServices: true, timeout: 60_000 })((it) => {
      it.effect("every table holding a shop's rows has row-level security on (migrations, all areas)", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const tables = yield* sql<{ table_name: string; rls: boolean }>`
            SELECT c.relname AS table_name, c.relrowsecurity AS rls
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname = 'public'
               AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'shop' AND NOT a.attisdropped)
             ORDER BY 1`
          // the data plane's and access control's tables are among them
          for (const t of ["events", "shop_log", "dead_letters", "job_requests", "api_keys", "storefront_origins", "shop_members", "data_exports", "shop_tokens", "data_keys"]) {
            assert.include(tables.map((x) => x.table_name), t)
          }
          assert.deepStrictEqual(tables.filter((t) => !t.rls).map((t) => t.table_name), [])
        }))

      it.effect("a tenant session sees only its own shop's events, streams and snapshots", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          yield* store.append("t-a", "shop-a", "any", [ev("t.a1"), ev("t.a2")], meta())
          yield* store.append("t-b", "shop-b", "any", [ev("t.b1")], meta())
          yield* store.saveSnapshot({ streamId: "t-b", fold: "f", shop: "shop-b", schemaVersion: 1, streamVersion: 1, state: {} }, Schema.Struct({}))
          const seen = yield* asTenant("shop-a", sql<{ shop: string; n: number }>`SELECT shop, count(*)::int AS n FROM events GROUP BY shop`)
          assert.deepStrictEqual(seen, [{ shop: "shop-a", n: 2 }])
          const explicit = yield* asTenant("shop-a", sql`SELECT * FROM events WHERE shop = 'shop-b'`)
          assert.strictEqual(explicit.length, 0)
          const streams = yield* asTenant("shop-a", sql<{ stream_id: string }>`SELECT stream_id FROM event_streams`)
          assert.deepStrictEqual(streams.map((s) => s.stream_id), ["t-a"])
          const snaps = yield* asTenant("shop-a", sql`SELECT * FROM snapshots`)
          assert.strictEqual(snaps.length, 0)
        }))

      it.effect("a tenant session cannot write or change another shop's rows", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          yield* store.append("w-b", "shop-b", "any", [ev("w.b1")], meta())
          const insert = yield* Effect.flip(asTenant("shop-a", sql`
            INSERT INTO events (event_id, shop, stream_id, stream_version, type, schema_version, data, correlation_id, actor, occurred_at)
            VALUES (gen_random_uuid(), 'shop-b', 'w-b', 2, 'evil', 1, '{}', 'c', '{}', now())`))
          assert.strictEqual(insert._tag, "SqlError")
          // an UPDATE of another shop's stream silently matches nothing
          yield* asTenant("shop-a", sql`UPDATE event_streams SET version = 99 WHERE stream_id = 'w-b'`)
          assert.strictEqual((yield* store.streamInfo("w-b"))!.version, 1)
          // a tenant cannot append to another shop through the store function either
          const viaFn = yield* Effect.flip(asTenant("shop-a", sql`
            SELECT * FROM append_events('w-b2', 'shop-b', 'any', 0,
              '[{"event_id":"0191d2a4-1111-7000-8000-000000000001","type":"evil","schema_version":1,"data":{},
                 "correlation_id":"c","causation_id":null,"actor":{},"occurred_at":"2026-01-01T00:00:00Z"}]'::jsonb)`))
          assert.strictEqual(viaFn._tag, "SqlError")
          const ownInsert = yield* asTenant("shop-a", sql`SELECT count(*)::int AS n FROM events WHERE shop = 'shop-b'`)
          assert.deepStrictEqual(ownInsert, [{ n: 0 }])
        }))

      it.effect("without a shop setting a tenant session sees nothing", () =>
        Effect.gen(function*() {
          const store = yield* EventStore
          const sql = yield* SqlClient.SqlClient
          yield* store.append("n-a", "shop-a", "any", [ev("n.a")], meta())
          const rows = yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`SET LOCAL ROLE sumeru_tenant`
            return yield* sql`SELECT * FROM events`
          }))
          assert.strictEqual(rows.length, 0)
        }))
    })
  })
}
