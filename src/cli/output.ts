/**
 * Writing to stdout for commands that stream data (analysts pipe them into files, `head`,
 * DuckDB): writes wait for the OS to take the data, so memory stays constant however fast the
 * database reads; a closed pipe (EPIPE, e.g. `| head`) ends the command quietly.
 */
import { Data, Effect } from "effect"

/** The reader of stdout went away (`| head` exited). Not an error for the user. */
export class BrokenPipe extends Data.TaggedError("BrokenPipe")<{}> {}

let broken = false
let guarded = false

/** Without an `error` listener, an EPIPE on stdout would crash the process with a stack trace. */
const guardStdout = (): void => {
  if (guarded) return
  guarded = true
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") {
      broken = true
      return
    }
    process.stderr.write(`error: cannot write to stdout: ${error.message}\n`)
    process.exit(1)
  })
}

/**
 * Writes `text` to stdout and completes once it was handed to the OS (backpressure), or fails
 * with {@link BrokenPipe} when the reader is gone.
 */
export const writeStdout = (text: string): Effect.Effect<void, BrokenPipe> =>
  Effect.callback<void, BrokenPipe>((resume) => {
    guardStdout()
    if (broken || process.stdout.destroyed) {
      resume(Effect.fail(new BrokenPipe()))
      return
    }
    process.stdout.write(text, (error) => {
      if (error !== null && error !== undefined) {
        broken = true
        resume(Effect.fail(new BrokenPipe()))
      } else {
        resume(Effect.void)
      }
    })
  })

/** A line of output for small, non-streamed results (tables, JSON documents). */
export const printLine = (line: string): Effect.Effect<void> =>
  writeStdout(`${line}\n`).pipe(Effect.catchTag("BrokenPipe", () => Effect.void))

/** A JSON document (pretty-printed) for `--json` output. */
export const printJson = (value: unknown): Effect.Effect<void> => printLine(JSON.stringify(value, null, 2))

/** Ends quietly when the pipe closes: the reader has all it wanted. */
export const quietOnBrokenPipe = <A, E, R>(
  effect: Effect.Effect<A, E | BrokenPipe, R>
): Effect.Effect<void, Exclude<E, BrokenPipe>, R> =>
  Effect.catchIf(
    Effect.asVoid(effect),
    (e): e is BrokenPipe => e instanceof BrokenPipe,
    () => Effect.void
  ) as Effect.Effect<void, Exclude<E, BrokenPipe>, R>

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

export interface Column<Row> {
  readonly header: string
  readonly value: (row: Row) => string
  readonly align?: "left" | "right"
}

const pad = (text: string, width: number, align: "left" | "right"): string =>
  align === "right" ? text.padStart(width) : text.padEnd(width)

/** An aligned table of rows already in memory (status lists are small). */
export const renderTable = <Row>(columns: ReadonlyArray<Column<Row>>, rows: ReadonlyArray<Row>): string => {
  const cells = rows.map((r) => columns.map((c) => c.value(r)))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)))
  const line = (values: ReadonlyArray<string>) =>
    values.map((v, i) => pad(v, widths[i]!, columns[i]!.align ?? "left")).join("  ").trimEnd()
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n")
}

/**
 * A streaming table: columns have fixed widths (rows are never all in memory, so widths cannot
 * be measured first); a longer value is cut with `…`, except in the last column.
 */
export interface FixedColumn<Row> extends Column<Row> {
  readonly width: number
}

const fit = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, width - 1)}…`)

export const fixedTable = <Row>(columns: ReadonlyArray<FixedColumn<Row>>) => {
  const last = columns.length - 1
  const line = (values: ReadonlyArray<string>) =>
    values.map((v, i) => (i === last ? v : pad(fit(v, columns[i]!.width), columns[i]!.width, columns[i]!.align ?? "left")))
      .join("  ").trimEnd()
  return {
    header: line(columns.map((c) => c.header)),
    row: (row: Row) => line(columns.map((c) => c.value(row)))
  }
}
