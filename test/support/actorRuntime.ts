/**
 * The shop actor runtime as the server wires it: its PostgreSQL backends (the actor store, and
 * partition leases chosen by database mode) provided by the composition root.
 */
import { Layer } from "effect"
import * as PgActorStore from "../../adapters/postgres/PgActorStore.ts"
import * as PgPartitionLeases from "../../adapters/postgres/PgPartitionLeases.ts"
import * as ShopActorRuntime from "../../src/actors/ShopActorRuntime.ts"

/** What `ShopActorRuntime.layer` needs besides the core, the shop log and the handlers. */
export const actorBackends = Layer.mergeAll(PgActorStore.layer, PgPartitionLeases.layerForDatabase)

/** `ShopActorRuntime.layer(options)` on the PostgreSQL backends. */
export const actorRuntimeLayer = (options?: ShopActorRuntime.RuntimeOptions) =>
  ShopActorRuntime.layer(options).pipe(Layer.provide(actorBackends))
