/**
 * The partition lock fences the actors' commits (migration 0013): a commit names the lock
 * session's backend that holds its partition, and the database refuses it — nothing written —
 * unless that backend still holds the lock. A worker whose lock session died (another worker
 * may own the partition now) cannot commit, even before it noticed.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as AdvisoryLockSession from "../../adapters/postgres/AdvisoryLockSession.ts"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import { PARTITION_LOCK_SPACE } from "../../adapters/postgres/PgPartitionLeases.ts"
import { ActorStore, type CommitItem } from "../../src/actors/ActorStore.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { postgresLayer } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"
import { pollUntil } from "../support/poll.ts"

const shop = "fenced.myshopify.com"

const item = (messageId: string, partition: number, ownerPid: number | null): CommitItem => ({
  message: { shop, messageId, type: "test.append", payload: { n: 0 } },
  sequence: 1,
  partition,
  ownerPid,
  appends: [{ streamId: `fenced-${messageId}`, expected: "no_stream", events: [{ type: "test.appended", data: { messageId } }] }],
  schedule: [],
  cancelTimers: [],
  metadata: { correlationId: messageId, causationId: messageId, actor: { kind: "system", id: "test" } }
})

const handled = (messageId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`
      SELECT (SELECT count(*) FROM processed_messages WHERE shop = ${shop} AND message_id = ${messageId})
           + (SELECT count(*) FROM events WHERE stream_id = ${`fenced-${messageId}`}) AS n`
    return Number(rows[0]!.n)
  })

describe("the partition lock fences commits", () => {
  layer(PgActorStore.layer.pipe(Layer.provideMerge(coreLayer(postgresLayer({ maxConnections: 6 }), testKeyRing()))), { excludeTestServices: true })((it) => {
    it.effect("only the lock session's backend holding the partition commits; after the session dies, nothing is written", () =>
      Effect.gen(function*() {
        const store = yield* ActorStore
        const sql = yield* SqlClient.SqlClient
        const session = yield* AdvisoryLockSession.make({ heartbeatInterval: "100 millis" })
        assert.isTrue(yield* session.tryLock({ space: PARTITION_LOCK_SPACE, key: 3 }))
        const pid = session.backendPid!

        assert.strictEqual(yield* store.commit(item("held", 3, pid)), "applied")
        assert.strictEqual(yield* handled("held"), 2)

        // a partition this session does not hold
        const other = yield* store.commit(item("not-ours", 4, pid)).pipe(Effect.flip)
        assert.strictEqual(other._tag, "PartitionNotOwned")
        assert.strictEqual(yield* handled("not-ours"), 0)

        // the session dies (database restart, network cut…): its locks with it
        yield* sql`SELECT pg_terminate_backend(${pid})`
        yield* pollUntil(Effect.map(session.isLost, (lost) => (lost ? true : undefined)), "the session to be lost")
        const after = yield* store.commit(item("after-loss", 3, pid)).pipe(Effect.flip)
        assert.strictEqual(after._tag, "PartitionNotOwned")
        assert.strictEqual(yield* handled("after-loss"), 0)

        // no lock named (the embedded database): not fenced
        assert.strictEqual(yield* store.commit(item("unfenced", 5, null)), "applied")
      }).pipe(Effect.scoped))

    it.effect("a session declared lost while its connection lives on (a heartbeat timed out under load) does not keep its locks from its owner's next session", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const key = { space: PARTITION_LOCK_SPACE, key: 7 }
        const first = yield* AdvisoryLockSession.make({ owner: "worker-x" })
        assert.isTrue(yield* first.tryLock(key))
        yield* first.invalidate("test: a heartbeat that timed out")
        // its backend is alive and still holds the lock
        const holders = yield* sql<{ pid: number }>`
          SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND objid = 7
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid::bigint = (hashtext(${PARTITION_LOCK_SPACE})::bigint & 4294967295)`
        assert.deepStrictEqual(holders.map((r) => r.pid), [first.backendPid!])
        // the owner's next session ends it, and can take the lock
        const second = yield* AdvisoryLockSession.make({ owner: "worker-x" })
        assert.isTrue(yield* pollUntil(second.tryLock(key).pipe(Effect.map((ok) => (ok ? true : undefined))), "the lock to be free"))
        // another owner's session is left alone
        const other = yield* AdvisoryLockSession.make({ owner: "worker-y" })
        assert.isFalse(yield* other.tryLock(key))
        assert.isFalse(yield* second.isLost)
      }).pipe(Effect.scoped))
  })
})
