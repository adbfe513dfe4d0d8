/**
 * Projection bookkeeping. A projection (name) has generations: each generation is one
 * build of one version into its own tables. Exactly one generation per name is `live`
 * (readers see it through views); a `building` one catches up beside it and takes over
 * atomically when it reaches the head.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE projection_generations (
      name            text NOT NULL,
      generation      integer NOT NULL,
      version         integer NOT NULL,
      status          text NOT NULL CHECK (status IN ('building', 'live', 'retired')),
      position        bigint NOT NULL DEFAULT 0,
      events_applied  bigint NOT NULL DEFAULT 0,
      target_position bigint,
      started_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      live_at         timestamptz,
      retired_at      timestamptz,
      PRIMARY KEY (name, generation)
    )`
  yield* sql`CREATE UNIQUE INDEX projection_one_live_idx ON projection_generations (name) WHERE status = 'live'`
  yield* sql`CREATE UNIQUE INDEX projection_one_building_idx ON projection_generations (name) WHERE status = 'building'`
})
