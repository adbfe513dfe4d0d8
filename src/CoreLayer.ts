/**
 * The core every process role shares: the database (migrated), the secrets (shop tokens and
 * the data keys of crypto-shredding), the event store that seals the shop's business data
 * with them, and the log wake-ups. Roles add their own pieces on top.
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
import * as PgSecrets from "../adapters/postgres/PgSecrets.ts"
import { appUpcasters } from "../domain/catalog/upcasters.ts"
import * as EventSealing from "./eventstore/EventSealing.ts"
import type { EventStore } from "./eventstore/EventStore.ts"
import * as LogWakeups from "./eventstore/LogWakeups.ts"
import type { PiiVault, ShopTokens } from "./secrets/Secrets.ts"

export type CoreServices =
  | PgClient.PgClient
  | SqlClient
  | DatabaseMode
  | EventStore
  | EventSealing.EventSealing
  | ShopTokens
  | PiiVault
  | LogWakeups.LogWakeups

/**
 * Builds the core on a database layer and a key ring (`Database.layerFromConfig` and
 * `KeyRing.layerFromConfig` in production).
 */
export const coreLayer = <E, EK>(
  database: Layer.Layer<PgClient.PgClient | SqlClient | DatabaseMode, E>,
  keyRing: Layer.Layer<KeyRing, EK>
): Layer.Layer<CoreServices, E | EK | SqlError> => {
  const withWakeups = LogWakeups.layer.pipe(Layer.provideMerge(database))
  const secrets = PgSecrets.layer().pipe(Layer.provide(keyRing), Layer.provideMerge(withWakeups))
  const sealing = EventSealing.layerFromVault.pipe(Layer.provideMerge(secrets))
  return PgEventStore.layer.pipe(
    Layer.provideMerge(sealing),
    Layer.provide(Layer.succeed(PgEventStore.EventUpcasters, appUpcasters))
  )
}
