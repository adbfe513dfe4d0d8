/**
 * Who is at the keyboard, and what the CLI tells them when a change goes to a shop's actor
 * (the single writer) rather than being made here.
 */
import { Duration, Effect } from "effect"
import { userInfo } from "node:os"
import { DatabaseMode } from "../../adapters/postgres/Database.ts"

/**
 * The operator as events record them (`requestedBy`, an undo's `by`): `cli:<os user>`, so the
 * audit's "changed by" tells a CLI change from an admin API one.
 */
export const operatorLabel = (): string => {
  let name: string | undefined
  try {
    name = userInfo().username
  } catch {
    // no passwd entry (some containers): the environment's name, if any
  }
  name = name || process.env["USER"] || process.env["LOGNAME"] || "unknown"
  return `cli:${name}`
}

/**
 * How long to wait for a shop actor's outcome. The embedded database is this process's alone
 * while the command runs, so no worker can be running: waiting would only delay "queued".
 */
export const outcomeWait = (seconds: number) =>
  Effect.gen(function*() {
    const mode = yield* DatabaseMode
    return mode.kind === "embedded" ? Duration.zero : Duration.seconds(seconds)
  })

/** What to say when a change was queued but no worker applied it within the wait. */
export const queuedNotice = (what: string) =>
  Effect.gen(function*() {
    const mode = yield* DatabaseMode
    return mode.kind === "embedded"
      ? `queued: ${what}. It will be applied when Sumeru's worker next runs (\`sumeru start\`): the embedded database is this command's while it runs, so no worker is running now.`
      : `queued: ${what}. It will be applied when Sumeru's worker next runs: no worker answered in time (is one running?).`
  })
