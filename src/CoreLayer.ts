/**
 * The core every process role shares: the database (migrated), the secrets (shop tokens and
 * the data keys of crypto-shredding), the event store that seals the shop's business data
 * with them, the log wake-ups, and the projections' store and lock sessions (the projector,
 * the CLI and the readiness checks read projections). Roles add their own pieces on top.
 *
 * The vault is built once here: the store's sealing and the compliance handlers must share
 * one instance, so that shredding a key also drops it from the cache the store reads with.
 */
import { Layer } from "effect"
import type { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { KeyRing } from "../adapters/crypto/KeyRing.ts"
import type { DatabaseMode } from "../adapters/postgres/Database.ts"
import * as PgEventStore from "../adapters/postgres/PgEventStore.ts"
import * as PgLockSessions from "../adapters/postgres/PgLockSessions.ts"
import * as PgLogWakeups from "../adapters/postgres/PgLogWakeups.ts"
import * as PgProjectionStore from "../adapters/postgres/PgProjectionStore.ts"
import * as PgSecrets from "../adapters/postgres/PgSecrets.ts"
import { appUpcasters } from "../domain/catalog/upcasters.ts"
import * as EventSealing from "./eventstore/EventSealing.ts"
import type { EventStore } from "./eventstore/EventStore.ts"
import type { LogWakeups } from "./eventstore/LogWakeups.ts"
import type { LockSessions } from "./locks/LockSessions.ts"
import type { ProjectionStore } from "./projections/ProjectionStore.ts"
import type { PiiVault, ShopTokens } from "./secrets/Secrets.ts"

export type CoreServices =
  | PgClient.PgClient
  | SqlClient
  | DatabaseMode
  | EventStore
  | EventSealing.EventSealing
  | ShopTokens
  | PiiVault
  | LogWakeups
  | ProjectionStore
  | LockSessions

/**
 * Builds the core on a database layer and a key ring (`Database.layerFromConfig` and
 * `KeyRing.layerFromConfig` in production).
 */
export const coreLayer = <E, EK>(
  database: Layer.Layer<PgClient.PgClient | SqlClient | DatabaseMode, E>,
  keyRing: Layer.Layer<KeyRing, EK>
): Layer.Layer<CoreServices, E | EK | SqlError> => {
  const withWakeups = PgLogWakeups.layer.pipe(Layer.provideMerge(database))
  const secrets = PgSecrets.layer().pipe(Layer.provide(keyRing), Layer.provideMerge(withWakeups))
  const sealing = EventSealing.layerFromVault.pipe(Layer.provideMerge(secrets))
  const store = PgEventStore.layer.pipe(
    Layer.provideMerge(sealing),
    Layer.provide(Layer.succeed(PgEventStore.EventUpcasters, appUpcasters))
  )
  return Layer.mergeAll(PgProjectionStore.layer, PgLockSessions.layer).pipe(Layer.provideMerge(store))
}
