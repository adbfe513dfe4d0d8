/**
 * `sumeru projections list | status | rebuild <name> [--wait] | checksum <name>`.
 *
 * `rebuild --wait` and who does the work: the CLI always starts a runner for the one
 * projection (`runProjections([p], { only, untilSwitched })`) and, beside it, follows the
 * rebuilt generation through `projectionStatus` until it is live.
 * - Embedded database: this process holds the database exclusively, so its runner builds.
 * - PostgreSQL: a projection is owned by one process through an advisory lock. If no projector
 *   owns it, this process's runner takes the lock and builds. If a running projector owns it,
 *   that projector builds (`requestRebuild` NOTIFYs it) and the CLI only follows its progress;
 *   the CLI's runner keeps trying the lock, so if the projector stops, the CLI takes over from
 *   the last checkpoint and still finishes. Either way the command ends when the generation
 *   is live, and Ctrl-C just stops following (a rebuild, once requested, always completes).
 */
import { Clock, Deferred, Duration, Effect, Fiber, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { DatabaseMode } from "../../../adapters/postgres/Database.ts"
import { allProjections } from "../../../projections/index.ts"
import type { Projection } from "../../projections/Projection.ts"
import {
  type LogBlock,
  logBlock,
  PROJECTION_LOCK_SPACE,
  ProjectionProgress,
  type ProjectionStatus,
  projectionStatus,
  runProjections
} from "../../projections/ProjectionRunner.ts"
import { type Generation, ProjectionStore } from "../../projections/ProjectionStore.ts"
import { EventStore } from "../../eventstore/EventStore.ts"
import { LockSessions } from "../../locks/LockSessions.ts"
import { withCore } from "../database.ts"
import { type CliFailure, fail } from "../errors.ts"
import { printLine, renderTable } from "../output.ts"
import { formatCount, formatDuration, makeProgressLine, makeRateMeter, renderProgress } from "../progress.ts"

const findProjection = (name: string): Effect.Effect<Projection, CliFailure> => {
  const p = allProjections.find((x) => x.name === name)
  return p !== undefined
    ? Effect.succeed(p)
    : fail(`unknown projection "${name}" (known: ${allProjections.map((x) => x.name).join(", ")})`)
}

const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of a table"), Flag.withDefault(false))

const printJson = (value: unknown) => printLine(JSON.stringify(value, null, 2))

const dash = (v: number | string | null | undefined): string => (v === null || v === undefined ? "-" : String(v))

// ---------------------------------------------------------------------------
// list
// ---------------------------------------------------------------------------

const list = Command.make("list", { json: jsonFlag }, ({ json }) =>
  withCore(Effect.gen(function*() {
    const gens = yield* ProjectionStore.use((s) => s.generations())
    const rows = allProjections.map((p) => {
      const live = gens.find((g) => g.name === p.name && g.status === "live")
      const building = gens.find((g) => g.name === p.name && g.status === "building")
      return {
        name: p.name,
        version: p.version,
        eventTypes: p.eventTypes === "all" ? "all" : p.eventTypes.join(","),
        tables: p.tables.map((t) => t.name),
        liveGeneration: live?.generation ?? null,
        liveVersion: live?.version ?? null,
        buildingGeneration: building?.generation ?? null
      }
    })
    if (json) return yield* printJson(rows)
    yield* printLine(renderTable([
      { header: "NAME", value: (r: typeof rows[number]) => r.name },
      { header: "VERSION", value: (r) => `v${r.version}`, align: "right" },
      { header: "LIVE GEN", value: (r) => dash(r.liveGeneration), align: "right" },
      {
        header: "LIVE VERSION",
        value: (r) => r.liveVersion === null ? "-" : r.liveVersion === r.version ? `v${r.liveVersion}` : `v${r.liveVersion} (outdated)`
      },
      { header: "BUILDING GEN", value: (r) => dash(r.buildingGeneration), align: "right" },
      { header: "TABLES", value: (r) => r.tables.join(",") },
      { header: "EVENT TYPES", value: (r) => r.eventTypes }
    ], rows))
  }))).pipe(Command.withDescription("Projections in this build: names, versions, live and building generations"))

// ---------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------

interface StatusRow {
  readonly name: string
  readonly generation: number | null
  readonly version: number
  readonly status: ProjectionStatus["status"] | "not started"
  readonly position: number
  readonly head: number
  /** Highest committed position: past `head` while events wait behind an open transaction. */
  readonly committedHead: number
  /** Committed events, counted in `lag`, that wait behind an open transaction's gap. */
  readonly blockedEvents: number
  readonly blockedBy: LogBlock | null
  readonly lag: number
  readonly eventsApplied: number
  readonly eventsPerSecond: number
  readonly etaSeconds: number | null
  readonly stalled: boolean
  readonly updatedAt: string | null
}

/** Every non-retired generation, plus a row for each projection no projector has started yet. */
const statusRows = Effect.gen(function*() {
  const store = yield* EventStore
  const status = yield* projectionStatus
  const rows: Array<StatusRow> = status.map((s) => ({
    name: s.name,
    generation: s.generation,
    version: s.version,
    status: s.status,
    position: s.position,
    head: s.head,
    committedHead: s.committedHead,
    blockedEvents: s.blockedEvents,
    blockedBy: s.blockedBy,
    lag: s.lag,
    eventsApplied: s.eventsApplied,
    eventsPerSecond: s.eventsPerSecond,
    etaSeconds: s.etaSeconds,
    stalled: s.stalled,
    updatedAt: s.updatedAt.toISOString()
  }))
  const missing = allProjections.filter((p) => !status.some((s) => s.name === p.name))
  if (missing.length > 0) {
    const head = (yield* store.head).safePosition
    const backlog = yield* store.backlog(head)
    for (const p of missing) {
      rows.push({
        name: p.name,
        generation: null,
        version: p.version,
        status: "not started",
        position: 0,
        head,
        committedHead: backlog.committedHead,
        blockedEvents: backlog.blockedEvents,
        blockedBy: logBlock(backlog),
        lag: head + backlog.blockedEvents,
        eventsApplied: 0,
        eventsPerSecond: 0,
        etaSeconds: null,
        stalled: false,
        updatedAt: null
      })
    }
  }
  const order = (name: string) => {
    const i = allProjections.findIndex((p) => p.name === name)
    return i === -1 ? allProjections.length : i
  }
  return rows.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name) || (a.generation ?? 0) - (b.generation ?? 0))
})

/** One line naming what holds the readers back, for the table view. */
const describeBlock = (rows: ReadonlyArray<StatusRow>): string | null => {
  const row = rows.find((r) => r.blockedBy !== null)
  if (row === undefined || row.blockedBy === null) return null
  const b = row.blockedBy
  const oldest = b.openTransactions[0]
  const gap = b.gap === null ? "" : b.gap.from === b.gap.to ? ` position ${formatCount(b.gap.from)}` : ` positions ${formatCount(b.gap.from)}–${formatCount(b.gap.to)}`
  return `${formatCount(row.blockedEvents)} committed events (up to position ${formatCount(row.committedHead)}) wait behind` +
    `${gap === "" ? " an uncommitted position" : gap}, held by an open transaction` +
    (oldest === undefined
      ? " (none open any more: a rollback about to be passed)."
      : `: oldest open transaction pid ${oldest.pid}${oldest.applicationName ? ` (${oldest.applicationName})` : ""}` +
        `${oldest.clientAddress ? ` from ${oldest.clientAddress}` : ""}, ${oldest.state ?? "?"}, open ${formatDuration(oldest.ageSeconds)}` +
        (b.openTransactions.length > 1 ? ` (${b.openTransactions.length} open transactions)` : "") + ".")
}

const status = Command.make("status", { json: jsonFlag }, ({ json }) =>
  withCore(Effect.gen(function*() {
    const rows = yield* statusRows
    if (json) return yield* printJson(rows)
    yield* printLine(renderTable([
      { header: "PROJECTION", value: (r: StatusRow) => r.name },
      { header: "GEN", value: (r) => dash(r.generation), align: "right" },
      { header: "VERSION", value: (r) => `v${r.version}`, align: "right" },
      { header: "STATUS", value: (r) => r.status },
      { header: "POSITION", value: (r) => formatCount(r.position), align: "right" },
      { header: "HEAD", value: (r) => formatCount(r.head), align: "right" },
      { header: "LAG", value: (r) => formatCount(r.lag), align: "right" },
      { header: "APPLIED", value: (r) => formatCount(r.eventsApplied), align: "right" },
      { header: "EVENTS/S", value: (r) => r.generation === null ? "-" : formatCount(r.eventsPerSecond), align: "right" },
      { header: "ETA", value: (r) => r.lag === 0 ? "-" : r.etaSeconds === null ? "?" : formatDuration(r.etaSeconds), align: "right" },
      { header: "STALLED", value: (r) => (r.stalled ? "STALLED" : "no") },
      { header: "UPDATED", value: (r) => dash(r.updatedAt) },
      // of LAG: committed events waiting behind an open transaction (see the line below the table)
      { header: "BLOCKED", value: (r) => r.blockedEvents === 0 ? "-" : formatCount(r.blockedEvents), align: "right" }
    ], rows))
    const block = describeBlock(rows)
    if (block !== null) yield* printLine(`\nBLOCKED: ${block}`)
  }))).pipe(Command.withDescription(
    "Per generation: status, position, lag (including events committed behind an open transaction), events applied, events/s, stalled"
  ))

// ---------------------------------------------------------------------------
// rebuild
// ---------------------------------------------------------------------------

/** Follows `target` until it is live; draws the progress line meanwhile. */
const follow = (projection: Projection, target: Generation) =>
  Effect.gen(function*() {
    const store = yield* ProjectionStore
    const progress = yield* ProjectionProgress
    const line = yield* makeProgressLine
    const rate = makeRateMeter()
    const label = `${projection.name} gen ${target.generation}`
    const startedAt = yield* Clock.currentTimeMillis
    let total: number | null = null
    let countedTo = 0
    let firstApplied: number | null = null
    for (;;) {
      const next = yield* progress.next
      const all = yield* projectionStatus
      const gen = all.find((s) => s.name === projection.name && s.generation === target.generation)
      if (gen === undefined) {
        return yield* fail(
          `generation ${target.generation} of ${projection.name} was retired before it went live ` +
            "(a newer version of the projection replaced it); see `sumeru projections status`"
        )
      }
      if (total === null) {
        total = gen.eventsApplied + (yield* store.countEvents(projection, gen.position, gen.head))
        countedTo = gen.head
        firstApplied = gen.eventsApplied
      } else if (gen.head > countedTo) {
        // Events keep arriving while the rebuild runs: the total grows with the head.
        total += yield* store.countEvents(projection, countedTo, gen.head)
        countedTo = gen.head
      }
      const now = yield* Clock.currentTimeMillis
      if (gen.status === "live") {
        const seconds = (now - startedAt) / 1000
        const applied = gen.eventsApplied - (firstApplied ?? 0)
        yield* line.finish(
          `${label}: live (v${gen.version}) at position ${formatCount(gen.position)}; ` +
            `${formatCount(gen.eventsApplied)} events applied, ${formatCount(applied)} in ${formatDuration(seconds)}` +
            (seconds > 0 && applied > 0 ? ` (${formatCount(applied / seconds)} events/s)` : "")
        )
        return gen
      }
      yield* line.update(
        renderProgress(label, { done: gen.eventsApplied, total, rate: rate(now, gen.eventsApplied) }) +
          (gen.stalled ? "  STALLED" : "")
      )
      // Our own runner signals every batch; a projector in another process is polled.
      yield* Deferred.await(next).pipe(Effect.timeoutOption(Duration.millis(500)))
    }
  })

const rebuild = Command.make(
  "rebuild",
  {
    name: Argument.String("name").pipe(Argument.withDescription("Projection to rebuild (see `projections list`)")),
    wait: Flag.Boolean("wait").pipe(
      Flag.withDescription("Build it now (or follow the projector building it) until it is live"),
      Flag.withDefault(false)
    )
  },
  ({ name, wait }) =>
    withCore(Effect.gen(function*() {
      const projection = yield* findProjection(name)
      const store = yield* ProjectionStore
      const mode = yield* DatabaseMode
      const target = yield* store.requestRebuild(projection)
      const live = (yield* store.generations(projection.name)).find((g) => g.status === "live")
      const fresh = target.position === 0 && target.eventsApplied === 0
      yield* printLine(
        `${projection.name}: generation ${target.generation} (v${target.version}) ` +
          (fresh ? "is building from the start of the log" : `was already building (at position ${formatCount(target.position)})`) +
          (live === undefined
            ? "."
            : `; generation ${live.generation} stays live for readers until the switch.`)
      )
      if (!wait) {
        yield* printLine(
          mode.kind === "embedded"
            ? `It is built when \`sumeru start\` next runs, or now with \`sumeru projections rebuild ${name} --wait\`.`
            : "A running projector builds it and switches it live; follow it with `sumeru projections status`."
        )
        return
      }
      if (mode.kind === "postgres") {
        const holder = yield* LockSessions.use((locks) => locks.holder({ space: PROJECTION_LOCK_SPACE, key: projection.name }))
        if (Option.isSome(holder)) {
          const h = holder.value
          yield* printLine(
            `A projector owns ${projection.name} (pid ${h.pid}${h.applicationName ? `, ${h.applicationName}` : ""}` +
              `${h.clientAddress ? ` from ${h.clientAddress}` : ""}): following its progress; this command takes over if it stops.`
          )
        }
      }
      const runner = yield* Effect.forkChild(
        runProjections([projection], { only: [projection.name], untilSwitched: true })
      )
      yield* follow(projection, target)
      // Done: our runner has returned after the switch, or was only waiting for the lock.
      yield* Fiber.interrupt(runner)
    }))
).pipe(Command.withDescription("Rebuild a projection beside the live one and switch atomically when caught up"))

// ---------------------------------------------------------------------------
// checksum
// ---------------------------------------------------------------------------

const checksumCommand = Command.make(
  "checksum",
  { name: Argument.String("name").pipe(Argument.withDescription("Projection name")), json: jsonFlag },
  ({ name, json }) =>
    withCore(Effect.gen(function*() {
      const projection = yield* findProjection(name)
      const store = yield* ProjectionStore
      const gens = (yield* store.generations(projection.name)).filter((g) => g.status !== "retired")
      if (gens.length === 0) {
        return yield* fail(
          `${projection.name} has no generation yet: start a projector or run \`sumeru projections rebuild ${projection.name} --wait\``
        )
      }
      const results = yield* Effect.forEach(gens, (g) =>
        Effect.map(store.checksum(projection, g.generation), (c) => ({
          name: projection.name,
          generation: g.generation,
          version: g.version,
          status: g.status,
          position: g.position,
          rows: c.rows,
          sha256: c.sha256
        })))
      if (json) return yield* printJson(results)
      for (const r of results) {
        yield* printLine(
          `${r.name} generation ${r.generation} (${r.status}, v${r.version}, position ${formatCount(r.position)}): ` +
            `sha256 ${r.sha256}  rows ${r.rows}` + (r.status === "building" ? "  (still building: changes as it catches up)" : "")
        )
      }
    }))
).pipe(Command.withDescription("SHA-256 and row count of the live generation (and of a building one)"))

export const projectionsCommand = Command.make("projections").pipe(
  Command.withDescription("Projections: list, status, rebuild, checksum"),
  Command.withSubcommands([list, status, rebuild, checksumCommand])
)
