/**
 * The `sumeru` command tree and its runner (entry: `src/cli.ts`).
 *
 *   sumeru start [--role all|ingress|worker|projector] [--port N]
 *   sumeru migrate
 *   sumeru projections list | status | rebuild <name> [--wait] | checksum <name>
 *   sumeru events replay --shop S [--after-position P] [--since T] [--until T] [--types a,b] [--format jsonl|table]
 *   sumeru streams show <streamId> [--at-version N | --at-time T]
 *   sumeru deadletters list [--shop S] [--all] | redrive <id>
 *   sumeru keys status | rotate [--generate-key] [--batch-size N]
 *   sumeru origins list|add|remove --shop S [origin]
 *   sumeru apikeys create --shop S --name N --scopes a,b [--role R] | list --shop S | revoke --shop S <keyId>
 *   sumeru rules list <shop> [--all] | show <shop> <rule-id> | create <shop> --file rule.json
 *                | enable|disable|delete <shop> <rule-id> | backtest <shop> <rule-id> --from T --to T   [--json]
 *   sumeru why <shop> <execution-id> [--json]
 *   sumeru executions undo <shop> <execution-id> [--force] [--json]
 *   sumeru ads connect <shop> <google|meta|tiktok> <account-id> --token-file <path|-> [--developer-token-file <path|->]
 *              [--login-customer-id <id>] | list <shop> | disconnect <shop> <platform> <account-id>   [--wait N] [--json]
 *   sumeru attribution export --shop S --from D --to D [--format csv|jsonl]
 *   sumeru ai usage --shop S [--from D --to D] [--format table|csv|jsonl] · ai budget --shop S
 *   sumeru webhooks list <shop> | deliveries <shop> [--status pending|delivered|dead] | redrive <shop> <delivery-id>   [--json]
 *
 * Database: `DATABASE_URL` (PostgreSQL) or the embedded PGlite in `SUMERU_DATA_DIR` (default `./data`).
 * Data goes to stdout, logs and errors to stderr. Errors the user can fix are one line and exit 1.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Logger, References, Runtime } from "effect"
import { CliOutput, Command } from "effect/cli"
import { readFileSync } from "node:fs"
import { adsCommand } from "./commands/ads.ts"
import { apiKeysCommand } from "./commands/apikeys.ts"
import { originsCommand } from "./commands/origins.ts"
import { deadLettersCommand } from "./commands/deadletters.ts"
import { eventsCommand } from "./commands/events.ts"
import { attributionCommand } from "./commands/attribution.ts"
import { aiCommand } from "./commands/ai.ts"
import { executionsCommand } from "./commands/executions.ts"
import { keysCommand } from "./commands/keys.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { projectionsCommand } from "./commands/projections.ts"
import { rulesCommand } from "./commands/rules.ts"
import { shopsCommand } from "./commands/shops.ts"
import * as Start from "./commands/start.ts"
import { streamsCommand } from "./commands/streams.ts"
import { webhooksCommand } from "./commands/webhooks.ts"
import { whyCommand } from "./commands/why.ts"
import { formatter, presenter } from "./errors.ts"

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version

export const sumeru = Command.make("sumeru").pipe(
  Command.withDescription("Sumeru: event-sourced Shopify automation. Operator and analyst commands."),
  Command.withSubcommands([Start.startCommand, migrateCommand, projectionsCommand, eventsCommand, streamsCommand, deadLettersCommand, keysCommand, apiKeysCommand, originsCommand, rulesCommand, whyCommand, executionsCommand, shopsCommand, adsCommand, webhooksCommand, attributionCommand, aiCommand])
)

const program = Command.run(sumeru, { version }).pipe(
  // Commands print data on stdout: logs go to stderr and stay quiet unless something is wrong
  // (`--log-level info` shows more; `start` logs at info on stdout).
  Effect.provideService(Logger.LogToStderr, true),
  Effect.provideService(References.MinimumLogLevel, "Warn"),
  Effect.provide([CliOutput.layer(formatter), CliOutput.layerPresenter(presenter), NodeServices.layer])
)

NodeRuntime.runMain(program, {
  teardown: (exit, onExit) => {
    if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) && Start.gracefulOnSignal) return onExit(0)
    return Runtime.defaultTeardown(exit, onExit)
  }
})
