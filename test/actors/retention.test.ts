/** Handled message ids are forgotten after the retention, not before (PostgreSQL 15). */
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as PgHandledMessages from "../../adapters/postgres/PgHandledMessages.ts"
import { pruneProcessedMessages } from "../../src/actors/Retention.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { postgresLayer } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"

describe("dedupe retention", () => {
  layer(PgHandledMessages.layer.pipe(Layer.provideMerge(coreLayer(postgresLayer(), testKeyRing()))), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("deletes ids handled before the retention, keeps the recent ones, in batches", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`
          INSERT INTO processed_messages (shop, message_id, processed_at)
          SELECT 'a.myshopify.com', 'old-' || i, now() - interval '8 days' FROM generate_series(1, 25000) i`
        yield* sql`
          INSERT INTO processed_messages (shop, message_id, processed_at)
          SELECT 'a.myshopify.com', 'recent-' || i, now() - interval '6 days' FROM generate_series(1, 100) i`
        const pruned = yield* pruneProcessedMessages(Duration.days(7))
        assert.strictEqual(pruned, 25_000)
        const left = yield* sql<{ id: string }>`SELECT DISTINCT split_part(message_id, '-', 1) AS id FROM processed_messages`
        assert.deepStrictEqual(left, [{ id: "recent" }])
        assert.strictEqual(yield* pruneProcessedMessages(Duration.days(7)), 0)
      }))
  })
})
