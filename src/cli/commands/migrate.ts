/** `sumeru migrate`: applies pending migrations and prints which ran. */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { migrate } from "../database.ts"
import { printLine } from "../output.ts"

const pad = (id: number) => String(id).padStart(4, "0")

export const migrateCommand = Command.make("migrate", {}, () =>
  Effect.gen(function*() {
    const report = yield* migrate
    if (report.applied.length === 0) {
      yield* printLine(`Database is up to date (${report.total} migrations applied).`)
      return
    }
    yield* printLine(`Applied ${report.applied.length} migration${report.applied.length === 1 ? "" : "s"}:`)
    for (const m of report.applied) yield* printLine(`  ${pad(m.id)}_${m.name}`)
    yield* printLine(`Database is up to date (${report.total} migrations applied).`)
  })).pipe(Command.withDescription("Apply pending database migrations and print which ran"))
