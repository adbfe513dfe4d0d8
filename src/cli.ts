#!/usr/bin/env node
/**
 * `sumeru`: the operator and analyst CLI (`bin/sumeru`, `npm run cli -- …`).
 *
 *   sumeru start [--role all|ingress|worker|projector] [--port N]
 *   sumeru migrate
 *   sumeru projections list | status | rebuild <name> [--wait] | checksum <name>
 *   sumeru events replay --shop S [--after-position P] [--since T] [--until T] [--types a,b] [--format jsonl|table]
 *   sumeru streams show <streamId> [--at-version N | --at-time T]
 *   sumeru rules list|show|create|enable|disable|delete|backtest <shop> …
 *   sumeru why <shop> <execution-id>
 *   sumeru executions undo <shop> <execution-id> [--force]
 *   (and more: `sumeru --help`)
 *
 * Database: `DATABASE_URL` (PostgreSQL) or the embedded PGlite in `SUMERU_DATA_DIR` (default `./data`).
 * Data goes to stdout; logs and errors to stderr. Errors the user can fix are one line, exit 1.
 *
 * This file only turns on Node's compile cache (it roughly halves start-up, most of which is
 * compiling Effect) before loading the commands: static imports would be compiled first (its
 * one, `processImage.ts`, imports nothing).
 *
 * `start`, on Linux, first replaces its process with itself as it needs to run
 * (`src/cli/processImage.ts`): V8's young generation capped as Node 20 sized it, and glibc's
 * malloc mmap threshold fixed. glibc raises that threshold as large blocks are freed (up to
 * 32 MB), after which such blocks come from the heap and stay there once freed: PGlite's start
 * (initdb, WebAssembly compilation) left ~120 MB of free heap resident for the life of the
 * server. Fixed at glibc's own default, 128 kB, they are mapped and given back (`npm run
 * bench:footprint`: idle 586 → 403 MB after a first start, 455 → 346 MB after a restart).
 * Fixed at 32 kB, the blocks the demo's first start churns through (its 90 days of history)
 * are too: at 128 kB they left ~30 MB of free fragments in the heap (`malloc_trim` from a
 * debugger gave back 34 MB of an idle first start; first start 281 → 245 MB bundled). On
 * PostgreSQL it is what keeps a bulk job's result files from leaving the same fragments (see
 * `processImage.ts` for its measured cost: none seen). Both are only read when a process
 * starts, so they are set for a new image of the same process (same pid, same stdio); other C
 * libraries ignore the variable.
 */
import { enableCompileCache } from "node:module"
import { startImage } from "./cli/processImage.ts"

const execve = (process as { execve?: (file: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => never }).execve
const image = process.argv[2] === "start" ? startImage({ execArgv: process.execArgv, env: process.env }) : null
if (process.platform === "linux" && execve !== undefined && image !== null) {
  try {
    execve(process.execPath, [process.execPath, ...image.flags, ...process.execArgv, ...process.argv.slice(1)], image.env)
  } catch {
    // not allowed here (a sandbox): the server runs as it is
  }
}

enableCompileCache()
await import("./cli/main.ts")
