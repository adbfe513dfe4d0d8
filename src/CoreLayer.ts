/**
 * The core every process role shares: the database (migrated), the event store, and the
 * log wake-ups. Roles add their own pieces on top.
 */
import { Layer } from "effect"
import type { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { appUpcasters } from "../domain/catalog/upcasters.ts"
import type { DatabaseMode } from "../adapters/postgres/Database.ts"
import * as PgEventStore from "../adapters/postgres/PgEventStore.ts"
import type { EventStore } from "./eventstore/EventStore.ts"
import * as LogWakeups from "./eventstore/LogWakeups.ts"

export type CoreServices = PgClient.PgClient | SqlClient | DatabaseMode | EventStore | LogWakeups.LogWakeups

/** Builds the core on a database layer (`Database.layerFromConfig` in production). */
export const coreLayer = <E>(
  database: Layer.Layer<PgClient.PgClient | SqlClient | DatabaseMode, E>
): Layer.Layer<CoreServices, E | SqlError> => {
  const withWakeups = LogWakeups.layer.pipe(Layer.provideMerge(database))
  return PgEventStore.layer.pipe(
    Layer.provideMerge(withWakeups),
    Layer.provide(Layer.succeed(PgEventStore.EventUpcasters, appUpcasters))
  )
}
