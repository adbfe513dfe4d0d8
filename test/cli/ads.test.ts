/**
 * `sumeru ads connect|list|disconnect` (issue 12 §2) on PostgreSQL 15 with the embedded shop log:
 * - with the shop's actor running (in this process, as a worker would), an account connected
 *   from a token file is listed at once, and its credentials open to the token in the worker —
 *   yet the token is in no event, no shop-log message and none of the CLI's output;
 * - the token can come from stdin (`--token-file -`), never from an argument (no such flag);
 * - account ids are checked per platform (Google's dashes and Meta's `act_` removed) and every
 *   problem is listed, exit 1, nothing sent;
 * - disconnect removes the account from the list and makes its credentials unreadable;
 * - with no worker, a connect is queued (`pending`, exit 0) with the credentials sealed.
 */
import { execFile } from "node:child_process"
import { Effect, Layer, ManagedRuntime, Redacted, Result } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as Database from "../../adapters/postgres/Database.ts"
import { makeDispatcher, ShopHandlers } from "../../src/actors/ShopHandlers.ts"
import { makeAdAccountHandlers, resolveAdAccount } from "../../src/ads/AdAccounts.ts"
import { coreLayer } from "../../src/CoreLayer.ts"
import { actorRuntimeLayer } from "../support/actorRuntime.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { testKeyRing } from "../support/keys.ts"
import { cliEnv, cliPath, type CliResult, expectUserError, root, runCli, withPostgres } from "./support.ts"

const dir = mkdtempSync(join(tmpdir(), "sumeru-cli-ads-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** Runs the CLI with `input` on its stdin. */
const runCliWithStdin = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, input: string): Promise<CliResult> =>
  new Promise((resolve) => {
    const child = execFile(process.execPath, [cliPath, ...args], { cwd: root, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
      resolve({ code, stdout, stderr })
    })
    child.stdin!.end(input)
  })

/** Every event row and every shop-log message of the database, as text. */
const everything = (url: string) =>
  withPostgres(url, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const events = yield* sql<{ row: string }>`SELECT e::text AS row FROM events e`
    const messages = yield* sql<{ row: string }>`SELECT m::text AS row FROM shop_log m`
    return { events: events.map((r) => r.row), messages: messages.map((r) => r.row) }
  }))

describe("with the shop's actor running", () => {
  const SHOP = "cli-ads.myshopify.com"
  const url = freshPostgresUrl()
  const env = cliEnv({ url })
  const TOKEN = "ya29.cli-secret-access-token-7f3a9c"
  const DEV_TOKEN = "dev-token-cli-2b8e41"
  /** The worker's shop actors, with the ad account handlers, on the same database, key ring and shop log. */
  const startWorker = () => {
    const core = coreLayer(Database.layerPostgres(Redacted.make(url), { maxConnections: 4 }), testKeyRing())
    const handlers = Layer.effect(ShopHandlers, Effect.map(makeAdAccountHandlers, (h) => makeDispatcher(h)))
    return ManagedRuntime.make(
      actorRuntimeLayer().pipe(Layer.provide(handlers), Layer.provideMerge(EmbeddedShopLog.layerConfig), Layer.provideMerge(core))
    )
  }
  let runtime: ReturnType<typeof startWorker>

  beforeAll(async () => {
    runtime = startWorker()
    await runtime.runPromise(Effect.void)
  })
  afterAll(async () => {
    await runtime?.dispose()
  })

  it("connect from a token file is applied by the actor and listed; the token is in no event, message or output", async () => {
    const tokenFile = file("google-token.txt", `${TOKEN}\n`)
    const devFile = file("google-dev.txt", DEV_TOKEN)
    const connected = await runCli([
      "ads", "connect", SHOP, "google", "123-456-7890", "--token-file", tokenFile, "--developer-token-file", devFile,
      "--login-customer-id", "111-222-3333", "--wait", "30"
    ], env)
    expect([connected.code, connected.stdout.trim()], connected.stderr).toEqual([0, `connected google account 1234567890 to ${SHOP}`])

    const listed = await runCli(["ads", "list", SHOP], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^PLATFORM\s+ACCOUNT\s+CONNECTED AT\s+BY$/),
      expect.stringMatching(/^google\s+1234567890\s+\d{4}-\d\d-\d\dT\S+Z\s+cli:\S+$/)
    ])
    const json = await runCli(["ads", "list", SHOP, "--json"], env)
    expect(JSON.parse(json.stdout)).toEqual({
      accounts: [{ platform: "google", account_id: "1234567890", connected_at: expect.any(String), connected_by: expect.stringMatching(/^cli:.+/) }]
    })

    // the worker opens the credentials the CLI sealed: the token was stored, sealed
    const account = await runtime.runPromise(resolveAdAccount(SHOP, "google", "1234567890"))
    expect(Result.isSuccess(account)).toBe(true)
    if (Result.isSuccess(account)) {
      expect(Redacted.value(account.success.accessToken)).toBe(TOKEN)
      expect(Redacted.value(account.success.developerToken!)).toBe(DEV_TOKEN)
      expect(account.success.loginCustomerId).toBe("1112223333")
    }
    const { events, messages } = await everything(url)
    expect(events.some((e) => e.includes("ad_account.connected"))).toBe(true)
    for (const text of [...events, ...messages, connected.stdout, connected.stderr, listed.stdout, json.stdout]) {
      expect(text).not.toContain(TOKEN)
      expect(text).not.toContain(DEV_TOKEN)
    }

    // again: the credentials are replaced
    const again = await runCli(["ads", "connect", SHOP, "google", "1234567890", "--token-file", file("google-token-2.txt", "ya29.refreshed"), "--wait", "30", "--json"], env)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ status: "connected", replaced: true, account: { platform: "google", account_id: "1234567890" } })
    const reopened = await runtime.runPromise(resolveAdAccount(SHOP, "google", "1234567890"))
    expect(Result.isSuccess(reopened) && Redacted.value(reopened.success.accessToken)).toBe("ya29.refreshed")
  })

  it("the token can come from stdin (--token-file -), never from an argument", async () => {
    const fromStdin = await runCliWithStdin(["ads", "connect", SHOP, "meta", "act_987654321", "--token-file", "-", "--wait", "30", "--json"], env, "EAAB-meta-stdin-token\n")
    expect(fromStdin.code, fromStdin.stderr).toBe(0)
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ status: "connected", replaced: false, account: { platform: "meta", account_id: "987654321" } })
    expect(fromStdin.stdout + fromStdin.stderr).not.toContain("EAAB-meta-stdin-token")
    const meta = await runtime.runPromise(resolveAdAccount(SHOP, "meta", "987654321"))
    expect(Result.isSuccess(meta) && Redacted.value(meta.success.accessToken)).toBe("EAAB-meta-stdin-token")

    // no flag takes the token itself, and no extra argument does either
    const asFlag = await runCli(["ads", "connect", SHOP, "tiktok", "7001", "--token", "tt-secret-token"], env)
    expect(asFlag.code).toBe(1)
    expect(asFlag.stderr).toMatch(/^error: Unrecognized flag: --token\b/)
    const asArgument = await runCli(["ads", "connect", SHOP, "tiktok", "7001", "tt-secret-token"], env)
    expect(asArgument.code).not.toBe(0)
    expect(asArgument.stderr).toMatch(/--token-file|Unexpected positional argument/)
    expect((await runCli(["ads", "list", SHOP], env)).stdout).not.toMatch(/^tiktok/m)
  })

  it("disconnect removes the account from the list and its credentials become unreadable", async () => {
    const shop = "cli-ads-disconnect.myshopify.com"
    const connected = await runCli(["ads", "connect", shop, "tiktok", "7001", "--token-file", file("tt.txt", "tt-token"), "--wait", "30"], env)
    expect(connected.code, connected.stderr).toBe(0)
    expect((await runCli(["ads", "list", shop], env)).stdout).toMatch(/^tiktok\s+7001\s/m)

    const gone = await runCli(["ads", "disconnect", shop, "tiktok", "7001", "--wait", "30"], env)
    expect([gone.code, gone.stdout.trim()], gone.stderr).toEqual([0, `disconnected tiktok account 7001 from ${shop}; its credentials can no longer be read`])
    expect((await runCli(["ads", "list", shop], env)).stdout.trim()).toBe("no ad accounts connected")
    expect(JSON.parse((await runCli(["ads", "list", shop, "--json"], env)).stdout)).toEqual({ accounts: [] })
    const resolved = await runtime.runPromise(resolveAdAccount(shop, "tiktok", "7001"))
    expect(Result.isFailure(resolved)).toBe(true)

    expectUserError(await runCli(["ads", "disconnect", shop, "tiktok", "7001"], env), /no tiktok account 7001 is connected to cli-ads-disconnect\.myshopify\.com/)
    const badId = await runCli(["ads", "disconnect", shop, "google", "12"], env)
    expect(badId.code).toBe(1)
    expect(badId.stderr).toContain("account-id: \"12\" is not a Google Ads customer id")
  })
})

describe("without a worker", () => {
  const url = freshPostgresUrl()
  const env = cliEnv({ url })
  const SHOP = "cli-ads-invalid.myshopify.com"

  it("invalid account ids: every problem, exit 1, nothing sent", async () => {
    const token = file("token.txt", "some-token")
    const google = await runCli([
      "ads", "connect", SHOP, "google", "123-456-789", "--token-file", join(dir, "missing.txt"), "--login-customer-id", "mgr-1"
    ], env)
    expect(google.code).toBe(1)
    expect(google.stderr.trimEnd().split("\n")).toEqual([
      "error: 3 problems; nothing was changed",
      "  account-id: \"123-456-789\" is not a Google Ads customer id: 10 digits, dashes allowed (123-456-7890)",
      "  --login-customer-id: \"mgr-1\" is not a Google Ads manager account id: 10 digits, dashes allowed (123-456-7890)",
      `  --token-file: cannot read ${join(dir, "missing.txt")}: no such file`
    ])
    expect(google.stdout).toBe("")

    const meta = await runCli(["ads", "connect", SHOP, "meta", "act_12ab", "--token-file", file("empty.txt", " \n"), "--developer-token-file", token, "--json"], env)
    expect(meta.code).toBe(1)
    expect(JSON.parse(meta.stdout)).toEqual({
      status: "invalid",
      errors: [
        { field: "account-id", message: "\"act_12ab\" is not a Meta ad account id: digits, an act_ prefix allowed (act_1234567890)" },
        { field: "--developer-token-file", message: "is for Google Ads accounts only" },
        { field: "--token-file", message: `${join(dir, "empty.txt")} is empty: it must hold the token` }
      ]
    })
    const tiktok = await runCli(["ads", "connect", SHOP, "tiktok", "adv-7001", "--token-file", token], env)
    expect(tiktok.stderr.trimEnd().split("\n")).toEqual(["error: 1 problem; nothing was changed", "  account-id: \"adv-7001\" is not a TikTok advertiser id: digits"])
    expect(tiktok.code).toBe(1)
    const platform = await runCli(["ads", "connect", SHOP, "bing", "1", "--token-file", token], env)
    expect(platform.code).toBe(1)
    expect(platform.stderr).toMatch(/Expected: "google" \| "meta" \| "tiktok"/)

    expect((await everything(url)).messages).toEqual([]) // nothing published
  })

  it("a connect is queued for the shop's actor: pending, exit 0, the credentials sealed in the message", async () => {
    const shop = "cli-ads-queued.myshopify.com"
    const token = "queued-secret-token-51c0"
    const human = await runCli(["ads", "connect", shop, "meta", "123456", "--token-file", file("queued.txt", token), "--wait", "1"], env)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^queued: connect meta account 123456 to cli-ads-queued\.myshopify\.com\. It will be applied when Sumeru's worker next runs/)
    const json = await runCli(["ads", "connect", shop, "meta", "act_123456", "--token-file", file("queued.txt", token), "--wait", "0", "--json"], env)
    expect(JSON.parse(json.stdout)).toEqual({ status: "pending", platform: "meta", account_id: "123456" })

    const messages = await withPostgres(url, Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ message: { type: string; payload: any } }>`SELECT message FROM shop_log WHERE shop = ${shop} ORDER BY seq`))
    expect(messages.map((m) => m.message.type)).toEqual(["ads.account_command", "ads.account_command"])
    expect(messages[0]!.message.payload).toMatchObject({
      by: expect.stringMatching(/^cli:.+/),
      command: { type: "connect", platform: "meta", accountId: "123456", credentials: { sealed: 1, subject: expect.stringMatching(/^ad-account:meta:123456:/) } }
    })
    expect(JSON.stringify(messages)).not.toContain(token)
    expect((await runCli(["ads", "list", shop], env)).stdout.trim()).toBe("no ad accounts connected")
  })
})
