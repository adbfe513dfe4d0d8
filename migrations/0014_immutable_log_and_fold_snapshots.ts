/**
 * The log is immutable, and long streams load fast (issue 10 §4).
 *
 * 1. `events` refuses `UPDATE`, `DELETE` and `TRUNCATE` for every role. A statement-level
 *    trigger raises SQLSTATE SU004 before any such statement runs. It fires even when no row
 *    matches, and it also fires for the owning role, which bypasses row-level security. The
 *    tenant role also loses its `UPDATE` grant on `events`, so it is refused with a
 *    permission error before the trigger is reached. It never had `DELETE` or `TRUNCATE`.
 *    Nothing in Sumeru changes a stored event: undo is a compensating event, and
 *    crypto-shredding destroys keys while the sealed events stay. A superuser can still
 *    switch the trigger off (`ALTER TABLE … DISABLE TRIGGER`, or
 *    `session_replication_role = replica`). That takes a deliberate act; a stray statement
 *    cannot do it.
 * 2. `snapshots` is rebuilt with the key `(stream_id, fold)`. Each stream keeps the latest
 *    snapshot of each fold (a fold is a named, versioned state computed from a stream, see
 *    `Fold` in `src/eventstore/EventStore.ts`). `state` is sealed under the shop's data key.
 *    Snapshots are a cache, not history: the log stays the source of truth, and any snapshot
 *    can be dropped at any time. Dropping the old table loses nothing, because its rows had
 *    no fold name and no reader could use them.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      RAISE EXCEPTION 'events are immutable: % on events is refused', TG_OP
        USING ERRCODE = 'SU004', HINT = 'append a compensating event instead';
    END
    $fn$`)
  yield* sql.unsafe(`
    CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable()`)
  yield* sql.unsafe(`REVOKE UPDATE, DELETE, TRUNCATE ON events FROM sumeru_tenant`)

  yield* sql.unsafe(`DROP TABLE snapshots`)
  yield* sql.unsafe(`
    CREATE TABLE snapshots (
      stream_id       text NOT NULL,
      fold            text NOT NULL,
      shop            text NOT NULL,
      schema_version  integer NOT NULL,
      stream_version  integer NOT NULL,
      state           jsonb NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (stream_id, fold)
    )`)
  yield* sql.unsafe(`ALTER TABLE snapshots ENABLE ROW LEVEL SECURITY`)
  yield* sql.unsafe(
    `CREATE POLICY snapshots_tenant ON snapshots USING (shop = current_shop()) WITH CHECK (shop = current_shop())`
  )
  yield* sql.unsafe(`GRANT SELECT, INSERT, UPDATE ON snapshots TO sumeru_tenant`)
})
