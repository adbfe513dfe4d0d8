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
 * compiling Effect) before loading the commands: static imports would be compiled first.
 */
import { enableCompileCache } from "node:module"

enableCompileCache()
await import("./cli/main.ts")
