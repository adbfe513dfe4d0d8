/**
 * `PartitionLeases` (src/actors/PartitionLeases.ts) for the embedded database (PGlite): one
 * process holds the database (its data directory is locked), so no other worker can exist.
 * This one owns every partition, with no locks to take, no registry of workers, and no commit
 * fence (PGlite has one connection, none to spare for a lock session, and nothing to compete
 * with).
 */
import { Effect, Layer } from "effect"
import { PartitionLeases } from "../../src/actors/PartitionLeases.ts"

export const make = Effect.succeed(PartitionLeases.of({ _tag: "SingleProcess" }))

export const layer: Layer.Layer<PartitionLeases> = Layer.effect(PartitionLeases, make)
