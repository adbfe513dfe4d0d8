/**
 * `sumeru ads connect|list|disconnect <shop> …`: a shop's connected ad accounts (issue 12 §2).
 *
 * - `connect` reads the access token (and Google's optional developer token) from a file, or
 *   from stdin when the path is `-` — never from an argument, which would land in the shell's
 *   history and in `ps`. The account id is checked per platform (Google: 10 digits, dashes
 *   removed; Meta: digits, an `act_` prefix removed; TikTok: digits) and every problem is listed;
 *   an invalid connect sends nothing. The credentials are sealed under the shop's key before they
 *   leave this process (`submitAdAccountChange`), so no event, message or output holds them in
 *   clear; connecting an account again replaces its credentials.
 * - `connect` and `disconnect` go to the shop's actor, the single writer, and wait, bounded, for
 *   the outcome. No answer in time (no worker running — always the case on the embedded
 *   database, which this command holds while it runs) is not a failure: the change is queued on
 *   the shop's log (exit 0, `{"status":"pending"}`).
 * - `list` folds the shop's `ad-accounts-<shop>` stream: platform, account, when and by whom it
 *   was connected — never the credentials.
 */
import { Effect, FileSystem, Option, Result, Stdio, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { PlatformError } from "effect/PlatformError"
import { AD_ACCOUNT_PLATFORMS, type AdAccountPlatform, type AdCredentials, adAccountKey, type ConnectedAccount } from "../../../domain/ads/AdAccounts.ts"
import { type AdAccountOutcome, readAdAccounts, submitAdAccountChange } from "../../ads/AdAccounts.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { operatorLabel, outcomeWait, queuedNotice } from "../operator.ts"
import { printJson, printLine, renderTable } from "../output.ts"

const shopArgument = Argument.String("shop").pipe(Argument.withDescription("The shop (example.myshopify.com)"))
const platformArgument = Argument.Literals("platform", AD_ACCOUNT_PLATFORMS).pipe(Argument.withDescription("google, meta or tiktok"))
const accountIdArgument = Argument.String("account-id").pipe(
  Argument.withDescription("Google Ads customer id (123-456-7890), Meta ad account id (act_ optional) or TikTok advertiser id")
)
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
const waitFlag = Flag.Int("wait").pipe(
  Flag.filterMap((n) => (n >= 0 ? Option.some(n) : Option.none<number>()), () => "a non-negative number of seconds"),
  Flag.withDescription("Seconds to wait for the shop's actor to apply the change, then leave it queued (none on the embedded database: no worker can run meanwhile)"),
  Flag.withDefault(10)
)

/** A problem with the input, named by the argument or flag it is about. */
export interface Problem {
  readonly field: string
  readonly message: string
}

const GOOGLE_ID = /^[0-9]+(-[0-9]+)*$/

/** A Google Ads customer id: 10 digits, dashes allowed (`123-456-7890`) and removed. */
const googleCustomerId = (raw: string, field: string, what: string): Result.Result<string, Problem> =>
  GOOGLE_ID.test(raw) && raw.replaceAll("-", "").length === 10
    ? Result.succeed(raw.replaceAll("-", ""))
    : Result.fail({ field, message: `${JSON.stringify(raw)} is not ${what}: 10 digits, dashes allowed (123-456-7890)` })

/**
 * The account id as the platform's API names it, or why it cannot be one: Google's customer id
 * without dashes, Meta's ad account id without `act_`, TikTok's advertiser id.
 */
export const accountIdFor = (platform: AdAccountPlatform, raw: string): Result.Result<string, Problem> => {
  const field = "account-id"
  switch (platform) {
    case "google":
      return googleCustomerId(raw, field, "a Google Ads customer id")
    case "meta": {
      const id = raw.startsWith("act_") ? raw.slice(4) : raw
      return /^[0-9]+$/.test(id)
        ? Result.succeed(id)
        : Result.fail({ field, message: `${JSON.stringify(raw)} is not a Meta ad account id: digits, an act_ prefix allowed (act_1234567890)` })
    }
    case "tiktok":
      return /^[0-9]+$/.test(raw)
        ? Result.succeed(raw)
        : Result.fail({ field, message: `${JSON.stringify(raw)} is not a TikTok advertiser id: digits` })
  }
}

/** Why a file could not be read, in a few words. */
const readFailure = (e: PlatformError): string => {
  const reason = e.reason
  if (reason._tag === "NotFound") return "no such file"
  if (reason._tag === "PermissionDenied") return "permission denied"
  if (reason._tag === "BadResource") return "not a readable file"
  return e.message
}

/**
 * A token from a file, or from stdin when the path is `-`: its one line, surrounding whitespace
 * removed. Problems never quote the file's content (it is a secret).
 */
const readToken = (path: string, field: string): Effect.Effect<Result.Result<string, Problem>, never, FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function*() {
    const where = path === "-" ? "stdin" : path
    const read = Effect.gen(function*() {
      if (path !== "-") return yield* (yield* FileSystem.FileSystem).readFileString(path)
      const stdio = yield* Stdio.Stdio
      if (yield* stdio.stdinIsTerminal) yield* Effect.sync(() => process.stderr.write(`${field}: reading the token from stdin (end it with Ctrl-D)\n`))
      return yield* Stream.mkString(Stream.decodeText(stdio.stdin))
    })
    const text = yield* Effect.result(read)
    if (Result.isFailure(text)) return Result.fail({ field, message: `cannot read ${where}: ${readFailure(text.failure)}` })
    const token = text.success.trim()
    if (token === "") return Result.fail({ field, message: `${where} is empty: it must hold the token` })
    if (/\s/.test(token)) return Result.fail({ field, message: `${where} must hold the token alone (one line without spaces)` })
    return Result.succeed(token)
  })

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** Stops with every problem (one per line; `--json`: `{"status":"invalid","errors":[…]}`); nothing was sent. */
const invalid = (problems: ReadonlyArray<Problem>, json: boolean) =>
  Effect.andThen(
    json ? printJson({ status: "invalid", errors: problems }) : Effect.void,
    fail(`${plural(problems.length, "problem")}; nothing was changed`, problems.map((p) => `${p.field}: ${p.message}`))
  )

const accountJson = (a: ConnectedAccount) => ({ platform: a.platform, account_id: a.accountId, connected_at: a.connectedAt, connected_by: a.connectedBy })

/** Runs a change with the core and the shop log (where the actor's messages go). */
const withShopLog = <A, E, R>(effect: Effect.Effect<A, E, R>) => withCore(Effect.provide(effect, ShopLogLayer.layerFromConfig))

/** Sends the change to the shop's actor and waits (bounded) for it; failures the operator can act on become one line. */
const submit = (shop: string, change: Parameters<typeof submitAdAccountChange>[1], wait: number) =>
  Effect.gen(function*() {
    const outcome: AdAccountOutcome = yield* submitAdAccountChange(shop, change, operatorLabel(), yield* outcomeWait(wait)).pipe(
      Effect.catchTag("ShopLogUnavailable", (e) => fail(`cannot publish to the shop's log: ${e.message}`)),
      Effect.catchTag("SecretsUnavailable", (e) => fail(`cannot seal the credentials: ${e.message}`)),
      // each connection seals under its own key: only a shop whose data was redacted lands here
      Effect.catchTag("SubjectShredded", () => fail(`cannot seal the credentials of ${change.platform} account ${change.accountId}: the shop's data was redacted`))
    )
    return outcome
  })

// ---------------------------------------------------------------------------
// connect
// ---------------------------------------------------------------------------

const connect = Command.make(
  "connect",
  {
    shop: shopArgument,
    platform: platformArgument,
    accountId: accountIdArgument,
    tokenFile: Flag.String("token-file").pipe(
      Flag.withDescription("A file holding the account's OAuth access token, or - to read it from stdin (never an argument: it would land in shell history and ps)")
    ),
    developerTokenFile: Flag.String("developer-token-file").pipe(
      Flag.withDescription("Google Ads only: a file holding the developer token (or - for stdin)"),
      Flag.optional
    ),
    loginCustomerId: Flag.String("login-customer-id").pipe(
      Flag.withDescription("Google Ads only: the manager account the calls go through (10 digits, dashes allowed)"),
      Flag.optional
    ),
    wait: waitFlag,
    json: jsonFlag
  },
  ({ accountId: rawId, developerTokenFile, json, loginCustomerId: rawLogin, platform, shop: given, tokenFile, wait }) =>
    Effect.gen(function*() {
      const shop = given.toLowerCase()
      const problems: Array<Problem> = []
      const accountId = accountIdFor(platform, rawId)
      if (Result.isFailure(accountId)) problems.push(accountId.failure)
      let loginCustomerId: string | undefined
      if (Option.isSome(rawLogin)) {
        if (platform !== "google") problems.push({ field: "--login-customer-id", message: "is for Google Ads accounts only" })
        else {
          const checked = googleCustomerId(rawLogin.value, "--login-customer-id", "a Google Ads manager account id")
          if (Result.isFailure(checked)) problems.push(checked.failure)
          else loginCustomerId = checked.success
        }
      }
      if (Option.isSome(developerTokenFile)) {
        if (platform !== "google") problems.push({ field: "--developer-token-file", message: "is for Google Ads accounts only" })
        if (developerTokenFile.value === "-" && tokenFile === "-") {
          problems.push({ field: "--developer-token-file", message: "stdin (-) can hold one token only: --token-file already reads it" })
        }
      }
      const accessToken = yield* readToken(tokenFile, "--token-file")
      if (Result.isFailure(accessToken)) problems.push(accessToken.failure)
      let developerToken: string | undefined
      if (Option.isSome(developerTokenFile) && platform === "google" && !(developerTokenFile.value === "-" && tokenFile === "-")) {
        const read = yield* readToken(developerTokenFile.value, "--developer-token-file")
        if (Result.isFailure(read)) problems.push(read.failure)
        else developerToken = read.success
      }
      if (problems.length > 0 || Result.isFailure(accountId) || Result.isFailure(accessToken)) return yield* invalid(problems, json)

      const id = accountId.success
      const credentials: AdCredentials = {
        accessToken: accessToken.success,
        ...(developerToken === undefined ? {} : { developerToken }),
        ...(loginCustomerId === undefined ? {} : { loginCustomerId })
      }
      yield* withShopLog(Effect.gen(function*() {
        const replacing = (yield* readAdAccounts(shop))[adAccountKey(platform, id)] !== undefined
        const outcome = yield* submit(shop, { type: "connect", platform, accountId: id, credentials }, wait)
        if (outcome._tag === "Pending") {
          return yield* json
            ? printJson({ status: "pending", platform, account_id: id })
            : printLine(yield* queuedNotice(`connect ${platform} account ${id} to ${shop}`))
        }
        const account = (yield* readAdAccounts(shop))[adAccountKey(platform, id)]
        if (json) return yield* printJson({ status: "connected", replaced: replacing, account: account === undefined ? null : accountJson(account) })
        yield* printLine(`connected ${platform} account ${id} to ${shop}${replacing ? " (its credentials replaced)" : ""}`)
      }))
    })
).pipe(
  Command.withDescription("Connect an ad account to a shop (its tokens read from files or stdin, sealed under the shop's key)"),
  Command.withExamples([
    {
      command: "sumeru ads connect example.myshopify.com google 123-456-7890 --token-file token.txt --developer-token-file dev.txt",
      description: "A Google Ads customer, its access token and developer token from files"
    },
    {
      command: "vault read -field=token secret/meta | sumeru ads connect example.myshopify.com meta act_1234567890 --token-file -",
      description: "A Meta ad account, its access token from stdin"
    }
  ])
)

// ---------------------------------------------------------------------------
// list, disconnect
// ---------------------------------------------------------------------------

const list = Command.make(
  "list",
  { shop: shopArgument, json: jsonFlag },
  ({ json, shop: given }) =>
    withCore(Effect.gen(function*() {
      const accounts = Object.values(yield* readAdAccounts(given.toLowerCase()))
        .sort((a, b) => a.platform.localeCompare(b.platform) || a.accountId.localeCompare(b.accountId))
      if (json) return yield* printJson({ accounts: accounts.map(accountJson) })
      if (accounts.length === 0) return yield* printLine("no ad accounts connected")
      yield* printLine(renderTable<ConnectedAccount>([
        { header: "PLATFORM", value: (a) => a.platform },
        { header: "ACCOUNT", value: (a) => a.accountId },
        { header: "CONNECTED AT", value: (a) => a.connectedAt },
        { header: "BY", value: (a) => a.connectedBy }
      ], accounts))
    }))
).pipe(Command.withDescription("The shop's connected ad accounts (never their credentials)"))

const disconnect = Command.make(
  "disconnect",
  { shop: shopArgument, platform: platformArgument, accountId: accountIdArgument, wait: waitFlag, json: jsonFlag },
  ({ accountId: rawId, json, platform, shop: given, wait }) =>
    Effect.gen(function*() {
      const shop = given.toLowerCase()
      const accountId = accountIdFor(platform, rawId)
      if (Result.isFailure(accountId)) return yield* invalid([accountId.failure], json)
      const id = accountId.success
      yield* withShopLog(Effect.gen(function*() {
        if ((yield* readAdAccounts(shop))[adAccountKey(platform, id)] === undefined) {
          return yield* fail(`no ${platform} account ${id} is connected to ${shop} (see \`sumeru ads list ${shop}\`)`)
        }
        const outcome = yield* submit(shop, { type: "disconnect", platform, accountId: id }, wait)
        if (outcome._tag === "Pending") {
          return yield* json
            ? printJson({ status: "pending", platform, account_id: id })
            : printLine(yield* queuedNotice(`disconnect ${platform} account ${id} from ${shop}`))
        }
        return yield* json
          ? printJson({ status: "disconnected", platform, account_id: id })
          : printLine(`disconnected ${platform} account ${id} from ${shop}; its credentials can no longer be read`)
      }))
    })
).pipe(Command.withDescription("Disconnect an ad account (its credentials' key is shredded; its history stays)"))

export const adsCommand = Command.make("ads").pipe(
  Command.withDescription("A shop's ad accounts (Google Ads, Meta, TikTok): connect, list, disconnect"),
  Command.withSubcommands([connect, list, disconnect])
)
