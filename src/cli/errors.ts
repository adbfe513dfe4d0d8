/**
 * User-facing failures: one line on stderr, exit code 1, no stack trace. Anything the user can
 * fix (bad arguments, unknown names, an unreachable or locked database) becomes a
 * {@link CliFailure}; only real bugs (defects) still print a trace.
 */
import { Cause, Effect, Predicate, Runtime, Schema } from "effect"
import { CliError, CliOutput } from "effect/cli"

/**
 * A failure the user can act on; `Command.run` renders its message as one line, followed by
 * its `details` (one per line, e.g. every problem of an invalid input) when it has them.
 */
export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  message: Schema.String,
  details: Schema.optional(Schema.Array(Schema.String))
}) {
  override get [CliError.userMessage]() {
    return this.message
  }
  /** Already rendered by the CLI: `runMain` must not log it again. */
  override readonly [Runtime.errorReported] = false
}

export const fail = (message: string, details?: ReadonlyArray<string>): Effect.Effect<never, CliFailure> =>
  Effect.fail(new CliFailure(details === undefined ? { message } : { message, details }))

const firstLine = (text: string): string => text.split("\n")[0]!.trim()

const causeMessage = (u: unknown): string | undefined => {
  if (Predicate.isObject(u) || u instanceof Error) {
    const m = (u as { message?: unknown }).message
    if (typeof m === "string" && m !== "") return firstLine(m)
  }
  return undefined
}

/** Where the CLI looks for its database, for messages (the password is never shown). */
export const databaseLabel = (): string => {
  const url = process.env["DATABASE_URL"]
  if (url !== undefined && url !== "") {
    try {
      const u = new URL(url)
      if (u.password !== "") u.password = "***"
      return `PostgreSQL at ${u.toString()}`
    } catch {
      return "PostgreSQL at DATABASE_URL (unparsable URL)"
    }
  }
  return `the embedded database in ${process.env["SUMERU_DATA_DIR"] || "./data"}`
}

/** One line describing any failure reaching the CLI's edge. */
export const describeFailure = (error: unknown): string => {
  if (error instanceof CliFailure) return error.message
  const tag = Predicate.isObject(error) || error instanceof Error ? (error as { _tag?: unknown })._tag : undefined
  switch (tag) {
    case "EmbeddedDatabaseInUse":
      return causeMessage(error) ?? "The embedded database is in use by another process."
    case "PersistenceError":
      return describeFailure((error as { cause: unknown }).cause)
    case "MigrationError": {
      const m = error as { kind?: string; message?: string; cause?: unknown }
      const detail = causeMessage(m.cause)
      return `Migration failed (${m.kind ?? "error"}): ${firstLine(m.message ?? "")}${detail ? `: ${detail}` : ""}`
    }
    case "SqlError": {
      const reason = (error as { reason?: { _tag?: string; message?: string; cause?: unknown } }).reason
      const detail = causeMessage(reason?.cause) ?? reason?.message ?? ""
      const connecting = reason?._tag === "ConnectionError" || reason?._tag === "AuthenticationError" ||
        /failed to connect/i.test(reason?.message ?? "")
      return connecting
        ? `Cannot connect to ${databaseLabel()}: ${detail}`
        : `Database error: ${detail}`
    }
    default: {
      if (Predicate.isObject(error) && (error as { _tag?: unknown })._tag === "ConfigError") {
        return `Configuration error: ${causeMessage(error) ?? String(error)}`
      }
      const m = causeMessage(error)
      return m === undefined ? String(error) : typeof tag === "string" ? `${tag}: ${m}` : m
    }
  }
}

/**
 * Turns every typed failure of `effect` into a {@link CliFailure} (defects stay defects: those
 * are bugs and keep their stack trace).
 */
export const userFacing = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, CliFailure, R> =>
  Effect.catchCause(effect, (cause) => {
    const failure = cause.reasons.find(Cause.isFailReason)
    // already user-facing (and maybe with details): as it is
    if (failure !== undefined && failure.error instanceof CliFailure) return Effect.fail(failure.error)
    if (failure !== undefined) return Effect.fail(new CliFailure({ message: describeFailure(failure.error) }))
    // The operating system refused something (permissions, a full disk, a missing directory):
    // the user's to fix, not a bug.
    const system = cause.reasons.find((r) => Cause.isDieReason(r) && isSystemError(r.defect))
    if (system !== undefined && Cause.isDieReason(system)) {
      const e = system.defect as NodeJS.ErrnoException
      return Effect.fail(new CliFailure({ message: `${firstLine(e.message)} (using ${databaseLabel()})` }))
    }
    return Effect.failCause(cause as Cause.Cause<never>)
  })

const isSystemError = (u: unknown): boolean =>
  u instanceof Error && typeof (u as NodeJS.ErrnoException).code === "string" &&
  typeof (u as NodeJS.ErrnoException).syscall === "string"

// ---------------------------------------------------------------------------
// Rendering: bad invocations are one line on stderr (help stays one `--help` away).
// ---------------------------------------------------------------------------

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const base = CliOutput.defaultFormatter()

/** A {@link CliFailure}'s details, one indented line each, below its message. */
const detailLines = (error: unknown): string => {
  const cause = Predicate.isObject(error) ? (error as { cause?: unknown }).cause : undefined
  const details = cause instanceof CliFailure ? cause.details ?? [] : []
  return details.map((d) => `\n  ${oneLine(d)}`).join("")
}

export const formatter: CliOutput.Formatter = {
  ...base,
  formatError: (error) => `error: ${oneLine(error.message)}${detailLines(error)}`,
  formatErrors: (errors) => errors.map((e) => `error: ${oneLine(e.message)}`).join("\n")
}

const usageHint = (commandPath: ReadonlyArray<string>): string => `(see \`${commandPath.join(" ")} --help\`)`

export const presenter: CliOutput.Presenter = {
  present: (event) => {
    if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
    const message = event.errors.map((e) => oneLine(e.message)).join("; ")
    return Effect.sync(() => {
      process.stderr.write(`error: ${message} ${usageHint(event.commandPath)}\n`)
    })
  }
}
