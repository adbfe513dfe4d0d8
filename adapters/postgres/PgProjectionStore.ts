/**
 * Projections on PostgreSQL (15+ and PGlite), the `ProjectionStore` backend: generations in
 * `projection_generations`, their physical tables and the readers' views, checkpointed
 * batches, the atomic blue/green switch, status and checksums. The runner decides when; this
 * does how.
 */
import { Effect, Layer, Option, Schema, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { createHash } from "node:crypto"
import type { RecordedEvent } from "../../domain/events/Envelope.ts"
import { type ApplyContext, physicalTable, type Projection, SHOP_REDACTED } from "../../src/projections/Projection.ts"
import { type Generation, ProjectionStore, type WriteFence } from "../../src/projections/ProjectionStore.ts"
import { PiiVault, Sealed } from "../../src/secrets/Secrets.ts"
import { notifyLogReaders } from "./Listen.ts"

interface GenerationRow {
  name: string
  generation: number
  version: number
  status: "building" | "live" | "retired"
  position: bigint | number
  events_applied: bigint | number
  target_position: bigint | number | null
  started_at: Date
  updated_at: Date
}

const toGeneration = (r: GenerationRow): Generation => ({
  name: r.name,
  generation: r.generation,
  version: r.version,
  status: r.status,
  position: Number(r.position),
  eventsApplied: Number(r.events_applied),
  targetPosition: r.target_position === null ? null : Number(r.target_position),
  startedAt: r.started_at,
  updatedAt: r.updated_at
})

const ident = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

/** Every generation of `name` (of every projection without it), by name and generation. */
export const generations = (sql: SqlClient.SqlClient, name?: string) =>
  Effect.map(
    sql<GenerationRow>`SELECT * FROM projection_generations
                        WHERE (${name ?? null}::text IS NULL OR name = ${name ?? null}::text)
                        ORDER BY name, generation`,
    (rows) => rows.map(toGeneration)
  )

/** Creates the physical tables of one generation, with row-level security where per shop. */
const createTables = (sql: SqlClient.SqlClient, projection: Projection, generation: number) =>
  Effect.gen(function*() {
    for (const t of projection.tables) {
      const phys = physicalTable(t.name, generation)
      yield* sql.unsafe(`DROP TABLE IF EXISTS ${ident(phys)}`)
      yield* sql.unsafe(
        `CREATE TABLE ${ident(phys)} (${[...t.columns, `PRIMARY KEY (${t.primaryKey.map(ident).join(", ")})`].join(", ")})`
      )
      for (const [i, cols] of (t.indexes ?? []).entries()) {
        yield* sql.unsafe(`CREATE INDEX ${ident(`${phys}_i${i}`)} ON ${ident(phys)} (${cols.map(ident).join(", ")})`)
      }
      if (t.shopColumn !== undefined) {
        yield* sql.unsafe(`ALTER TABLE ${ident(phys)} ENABLE ROW LEVEL SECURITY`)
        yield* sql.unsafe(
          `CREATE POLICY tenant ON ${ident(phys)} USING (${ident(t.shopColumn)} = current_shop()) WITH CHECK (${ident(t.shopColumn)} = current_shop())`
        )
      }
      yield* sql.unsafe(`GRANT SELECT ON ${ident(phys)} TO sumeru_tenant`)
    }
  })

/** Points the readers' views at `generation`. Views run as the caller, so RLS still applies. */
const pointViews = (sql: SqlClient.SqlClient, projection: Projection, generation: number) =>
  Effect.gen(function*() {
    for (const t of projection.tables) {
      yield* sql.unsafe(`DROP VIEW IF EXISTS ${ident(t.name)}`)
      yield* sql.unsafe(
        `CREATE VIEW ${ident(t.name)} WITH (security_invoker = true) AS SELECT * FROM ${ident(physicalTable(t.name, generation))}`
      )
      yield* sql.unsafe(`GRANT SELECT ON ${ident(t.name)} TO sumeru_tenant`)
    }
  })

const dropTables = (sql: SqlClient.SqlClient, projection: Projection, generation: number) =>
  Effect.forEach(projection.tables, (t) => sql.unsafe(`DROP TABLE IF EXISTS ${ident(physicalTable(t.name, generation))}`), {
    discard: true
  })

/**
 * Makes the database agree with the code's definition: a first generation goes live at once
 * (there is nothing older to serve); a version change starts a building generation beside
 * the live one. Returns the live and building generations.
 */
export const reconcile = (sql: SqlClient.SqlClient, projection: Projection) =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.projection.reconcile'), hashtext(${projection.name}))`
    const gens = yield* generations(sql, projection.name)
    let live = gens.find((g) => g.status === "live")
    let building = gens.find((g) => g.status === "building")
    const next = Math.max(0, ...gens.map((g) => g.generation)) + 1
    if (live === undefined && building === undefined) {
      yield* createTables(sql, projection, next)
      yield* pointViews(sql, projection, next)
      const rows = yield* sql<GenerationRow>`
        INSERT INTO projection_generations (name, generation, version, status, live_at)
        VALUES (${projection.name}, ${next}, ${projection.version}, 'live', now()) RETURNING *`
      live = toGeneration(rows[0]!)
    } else if (building === undefined && live !== undefined && live.version !== projection.version) {
      building = yield* startBuilding(sql, projection, next)
    } else if (building !== undefined && building.version !== projection.version) {
      // the code moved on while an older rebuild was in progress: restart it for this version
      yield* dropTables(sql, projection, building.generation)
      yield* sql`UPDATE projection_generations SET status = 'retired', retired_at = now()
                  WHERE name = ${projection.name} AND generation = ${building.generation}`
      building = yield* startBuilding(sql, projection, next)
    }
    return { live, building }
  }))

const startBuilding = (sql: SqlClient.SqlClient, projection: Projection, generation: number) =>
  Effect.gen(function*() {
    yield* createTables(sql, projection, generation)
    const rows = yield* sql<GenerationRow>`
      INSERT INTO projection_generations (name, generation, version, status, target_position)
      VALUES (${projection.name}, ${generation}, ${projection.version}, 'building',
              (SELECT coalesce(max(position), 0) FROM events)) RETURNING *`
    return toGeneration(rows[0]!)
  })

/**
 * Asks for a rebuild of `projection` from position 0 beside the live generation (operators
 * do this after fixing a projection's code). Idempotent while a rebuild is in progress.
 */
export const requestRebuild = (sql: SqlClient.SqlClient, projection: Projection) =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.projection.reconcile'), hashtext(${projection.name}))`
    const gens = yield* generations(sql, projection.name)
    const building = gens.find((g) => g.status === "building")
    if (building !== undefined) return building
    const next = Math.max(0, ...gens.map((g) => g.generation)) + 1
    const started = yield* startBuilding(sql, projection, next)
    yield* notifyLogReaders(sql)
    return started
  }))

/**
 * Applies `events` (read from the log after the generation's checkpoint, up to `upTo`) and
 * moves the checkpoint to `upTo` in the same transaction. The checkpoint update is guarded by
 * the old position, so two runners racing on one generation cannot both apply a batch; with
 * a `fence` it is also guarded by the ownership lock (one condition in the same statement,
 * once per batch), so a process that lost its lock cannot commit a batch, not even one it had
 * already read. False, applying nothing, when the checkpoint was not where the caller thought.
 */
export const commitBatch = (
  sql: SqlClient.SqlClient,
  projection: Projection,
  generation: Generation,
  upTo: number,
  events: ReadonlyArray<RecordedEvent>,
  fence?: WriteFence
) => {
  const table = (name: string) => ident(physicalTable(name, generation.generation))
  return sql.withTransaction(Effect.gen(function*() {
    // The row lock taken here serialises racing writers of this generation; the fence is
    // evaluated before it, so a writer that held the lock then wins, and a new owner's update
    // waits for it and then finds the checkpoint moved (stale) instead of applying twice.
    const updated = yield* sql`
      UPDATE projection_generations
         SET position = ${upTo}, events_applied = events_applied + ${events.length}, updated_at = now()
       WHERE name = ${projection.name} AND generation = ${generation.generation} AND position = ${generation.position}
         AND status <> 'retired' AND ${fence?.holds ?? sql.literal("TRUE")}
      RETURNING generation`
    if (updated.length === 0) {
      // Not ours any more, or moved by someone else: which one decides what the caller does.
      if (fence !== undefined) yield* fence.ensureHeld
      return false
    }
    if (events.length > 0) yield* applyWithErasure(projection, events, { sql, table, open: yield* sealedOpener })
    return true
  }))
}

const isSealed = Schema.is(Sealed)

/**
 * How projections open sealed values: through the `PiiVault` when the process has one. A
 * projection that needs it in a process without it fails loudly instead of writing rows
 * without their data.
 */
const sealedOpener = Effect.map(Effect.serviceOption(PiiVault), (vault): ApplyContext["open"] => (shop, sealed) =>
  !isSealed(sealed)
    ? Effect.succeedNone // nothing sealed there (an event of another shape): nothing to open
    : Option.isNone(vault)
    ? Effect.die(new Error("a projection opens sealed data, but no PiiVault is provided to the projection runner"))
    : vault.value.open(shop, sealed as never).pipe(
      Effect.catchTag("DecryptionFailed", (e) =>
        Effect.as(Effect.logWarning(`a sealed value of ${shop} does not open: ${e.message}`), Option.none())),
      Effect.catchTag("SecretsUnavailable", (e) => Effect.die(e))
    ))

/**
 * Applies a batch, erasing a shop's rows where its `shop.redacted` event stands: events
 * before it are applied, then the shop's rows deleted from every shop table, then the rest
 * (the redaction event included, for projections that list it).
 */
const applyWithErasure = (projection: Projection, events: ReadonlyArray<RecordedEvent>, ctx: ApplyContext) =>
  Effect.gen(function*() {
    // A redacted event (its shop's key shredded) has no data to apply; the shop's rows are
    // erased at its `shop.redacted` event, which follows the shredding.
    const wants = (e: RecordedEvent) =>
      e.redacted !== true && (projection.eventTypes === "all" || projection.eventTypes.includes(e.type))
    let segment: Array<RecordedEvent> = []
    for (const event of events) {
      if (event.type === SHOP_REDACTED) {
        if (segment.length > 0) yield* projection.apply(segment, ctx)
        segment = []
        for (const t of projection.tables) {
          if (t.shopColumn !== undefined) {
            yield* ctx.sql`DELETE FROM ${ctx.sql.unsafe(ctx.table(t.name))} WHERE ${ctx.sql(t.shopColumn)} = ${event.shop}`
          }
        }
      }
      if (wants(event)) segment.push(event)
    }
    if (segment.length > 0) yield* projection.apply(segment, ctx)
  })

/**
 * The blue/green switch, in one transaction: the building generation becomes live, the
 * views point at it, the old live generation is retired and its tables dropped. Readers
 * see either the old or the new version, never a mix. Returns `switched: false`, changing
 * nothing, when `building` is no longer building (another runner switched it); with a
 * `fence`, fails with `LockNotHeld` when this process no longer owns the projection.
 */
export const switchLive = (sql: SqlClient.SqlClient, projection: Projection, building: Generation, fence?: WriteFence) =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtext('sumeru.projection.reconcile'), hashtext(${projection.name}))`
    const still = yield* sql`
      SELECT generation FROM projection_generations
       WHERE name = ${projection.name} AND generation = ${building.generation} AND status = 'building'
         AND ${fence?.holds ?? sql.literal("TRUE")}
       FOR UPDATE`
    if (still.length === 0) {
      if (fence !== undefined) yield* fence.ensureHeld
      return { switched: false, old: undefined }
    }
    const old = (yield* generations(sql, projection.name)).find((g) => g.status === "live")
    if (old !== undefined) {
      yield* sql`UPDATE projection_generations SET status = 'retired', retired_at = now()
                  WHERE name = ${projection.name} AND generation = ${old.generation}`
    }
    yield* sql`UPDATE projection_generations SET status = 'live', live_at = now()
                WHERE name = ${projection.name} AND generation = ${building.generation}`
    yield* pointViews(sql, projection, building.generation)
    if (old !== undefined) yield* dropTables(sql, projection, old.generation)
    return { switched: true, old }
  }))

/**
 * A deterministic checksum of a generation's rows: SHA-256 over every table's rows as JSON,
 * in primary-key order. Equal checksums prove a rebuild produced the same read model.
 */
export const checksum = (sql: SqlClient.SqlClient, projection: Projection, generation: number) =>
  Effect.gen(function*() {
    const hash = createHash("sha256")
    let rows = 0
    for (const t of projection.tables) {
      hash.update(`table ${t.name}\n`)
      const order = t.primaryKey.map(ident).join(", ")
      yield* sql.unsafe<{ j: string }>(
        `SELECT row_to_json(t)::text AS j FROM ${ident(physicalTable(t.name, generation))} t ORDER BY ${order}`
      ).stream.pipe(
        Stream.runForEach((r) =>
          Effect.sync(() => {
            hash.update(r.j)
            hash.update("\n")
            rows++
          })
        )
      )
    }
    return { sha256: hash.digest("hex"), rows }
  })

/** Events a generation still has to read in (after, upTo], counting only the types it reads. */
export const countEvents = (sql: SqlClient.SqlClient, projection: Projection, after: number, upTo: number) => {
  const types = projection.eventTypes === "all" ? null : projection.eventTypes
  return Effect.map(
    sql<{ n: number | bigint | string }>`
      SELECT count(*) AS n FROM events
       WHERE position > ${after} AND position <= ${upTo}
         AND (${types === null}::boolean OR type = ANY(${types ?? []}::text[]))`,
    (rows) => Number(rows[0]?.n ?? 0)
  )
}

/** The database's clock, which also stamps `updated_at`. */
export const databaseNow = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ now: Date }>`SELECT now() AS now`, (rows) => rows[0]!.now)

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return ProjectionStore.of({
    generations: (name) => generations(sql, name),
    reconcile: (projection) => reconcile(sql, projection),
    requestRebuild: (projection) => requestRebuild(sql, projection),
    commitBatch: (projection, generation, upTo, events, fence) => commitBatch(sql, projection, generation, upTo, events, fence),
    switchLive: (projection, building, fence) => switchLive(sql, projection, building, fence),
    checksum: (projection, generation) => checksum(sql, projection, generation),
    countEvents: (projection, after, upTo) => countEvents(sql, projection, after, upTo),
    now: databaseNow(sql)
  })
})

export const layer = Layer.effect(ProjectionStore, make)
