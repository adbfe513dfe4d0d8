/**
 * What a projection is: a named, versioned fold of the global log into read-model tables.
 * Definitions live in `projections/`; the runner (`ProjectionRunner.ts`) owns checkpoints,
 * generations and the blue/green switch.
 */
import type { Effect, Option } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"

export interface ProjectionTable {
  /** Logical name: readers query a view of this name. */
  readonly name: string
  /** Column definitions, as inside `CREATE TABLE (...)`, without the primary key. */
  readonly columns: ReadonlyArray<string>
  /** Key columns: primary key, and the order rows are hashed in for the checksum. */
  readonly primaryKey: ReadonlyArray<string>
  /** Extra index definitions: lists of columns. */
  readonly indexes?: ReadonlyArray<ReadonlyArray<string>>
  /** Tables holding one shop's rows name the column; row-level security is applied to it. */
  readonly shopColumn?: string
}

export interface ApplyContext {
  readonly sql: SqlClient
  /** The physical table name of this generation for a logical table name (quoted identifier). */
  readonly table: (name: string) => string
  /**
   * Opens a value sealed with a shop's data key (`Sealed` in `src/secrets/Secrets.ts`):
   * `None` once its key was shredded (the customer or shop was redacted), when it does not
   * open, or when the value is not a sealed value at all. Projections that keep personal data in their tables read it through this.
   */
  readonly open: (shop: string, sealed: unknown) => Effect.Effect<Option.Option<unknown>, SqlError>
}

/**
 * `shop/redact`: when the runner meets this event it deletes every row of the shop from the
 * projection's shop tables (those naming a `shopColumn`) before applying later events, for
 * every projection, whatever its `eventTypes`. Projections that list the type also see it.
 */
export const SHOP_REDACTED = "shop.redacted"

export interface Projection {
  readonly name: string
  /** Bump when tables or `apply` change meaning: the runner rebuilds beside the live version. */
  readonly version: number
  /** Event types the projection needs; the runner reads only these. */
  readonly eventTypes: ReadonlyArray<string> | "all"
  readonly tables: ReadonlyArray<ProjectionTable>
  /**
   * Applies a batch of events in position order. Runs inside the transaction that also moves
   * the checkpoint, so the read model and its checkpoint never disagree.
   */
  readonly apply: (events: ReadonlyArray<RecordedEvent>, ctx: ApplyContext) => Effect.Effect<void, SqlError>
}

export const physicalTable = (table: string, generation: number): string => `${table}__g${generation}`
