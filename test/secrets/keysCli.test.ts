/**
 * `sumeru keys status | rotate` as a real child process: with configured keys on PostgreSQL 15
 * (the distributed procedure), and with the embedded key file (`rotate --generate-key`).
 */
import { Effect, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import * as PgSecrets from "../../adapters/postgres/PgSecrets.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { cliEnv, expectUserError, runCli, withEmbedded, withPostgres } from "../cli/support.ts"
import { EventStore } from "../../src/eventstore/EventStore.ts"
import { ev, meta } from "../support/fixtures.ts"

const k1 = randomBytes(32).toString("base64")
const k2 = randomBytes(32).toString("base64")

const envWith = (base: NodeJS.ProcessEnv, keys?: Record<string, string>, kid?: string): NodeJS.ProcessEnv => {
  const env = { ...base }
  delete env["SUMERU_ENCRYPTION_KEYS"]
  delete env["SUMERU_ENCRYPTION_KEY_ID"]
  if (keys !== undefined) env["SUMERU_ENCRYPTION_KEYS"] = JSON.stringify(keys)
  if (kid !== undefined) env["SUMERU_ENCRYPTION_KEY_ID"] = kid
  return env
}

const ringFrom = (keys: Record<string, string>, currentKid: string) =>
  KeyRing.make({ currentKid, keys: new Map(Object.entries(keys).map(([kid, k]) => [kid, Buffer.from(k, "base64")])) })

/** Two shop tokens and three data keys, sealed with `ring`. */
const seedWith = (ring: Effect.Effect<KeyRing.KeyRing["Service"], KeyRing.InvalidKeyRing>, tokens: Record<string, string>) =>
  Effect.gen(function*() {
    const r = yield* ring
    const store = yield* Effect.provideService(PgSecrets.makeShopTokens, KeyRing.KeyRing, r)
    const vault = yield* Effect.provideService(PgSecrets.makePiiVault(), KeyRing.KeyRing, r)
    for (const [shop, token] of Object.entries(tokens)) yield* store.save(shop, Redacted.make(token), "read_products")
    yield* vault.seal("a.myshopify.com", "shop", { a: 1 })
    yield* vault.seal("a.myshopify.com", "customer:1", { a: 2 })
    yield* vault.seal("b.myshopify.com", "customer:1", { b: 1 })
  })

const readTokens = (ring: Effect.Effect<KeyRing.KeyRing["Service"], KeyRing.InvalidKeyRing>, shops: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const store = yield* Effect.provideService(PgSecrets.makeShopTokens, KeyRing.KeyRing, yield* ring)
    const out: Record<string, string | null> = {}
    for (const shop of shops) out[shop] = Option.getOrNull(Option.map(yield* store.get(shop), (t) => Redacted.value(t.token)))
    return out
  })

const dirs: Array<string> = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe("sumeru keys", () => {
  it("with SUMERU_ENCRYPTION_KEYS on PostgreSQL: status, a refused misconfiguration, rotate, and the old key removed", async () => {
    const url = freshPostgresUrl()
    const base = cliEnv({ url })
    const tokens = { "a.myshopify.com": "shpat_cli_a_1234567890", "b.myshopify.com": "shpat_cli_b_1234567890" }
    await withPostgres(url, seedWith(ringFrom({ k1 }, "k1"), tokens))

    const before = await runCli(["keys", "status"], envWith(base, { k1, k2 }, "k2"))
    expect(before.code, before.stderr).toBe(0)
    expect(before.stdout).toContain("key ring: SUMERU_ENCRYPTION_KEYS; current key k2; 2 keys: k1, k2")
    expect(before.stdout).toMatch(/^k1\s+2\s+3\s+yes$/m)
    expect(before.stdout).toMatch(/^k2\s+0\s+0\s+current$/m)
    expect(before.stdout).toContain("run `sumeru keys rotate`")
    // a ring that lost k1 too early: status says so, rotate refuses before touching anything
    const early = await runCli(["keys", "status"], envWith(base, { k2 }, "k2"))
    expect(early.stdout).toMatch(/^k1\s+2\s+3\s+MISSING$/m)
    expectUserError(await runCli(["keys", "rotate"], envWith(base, { k2 }, "k2")), /keys missing from the key ring .*: k1\. Add them back/)
    expectUserError(await runCli(["keys", "rotate"], envWith(base, { k1, k2 }, "k3")), /current key id "k3" is not among the keys in SUMERU_ENCRYPTION_KEYS/)
    expectUserError(await runCli(["keys", "rotate"], envWith(base, { k1, k2 })), /SUMERU_ENCRYPTION_KEY_ID is not/)
    expectUserError(await runCli(["keys", "rotate", "--generate-key"], envWith(base, { k1, k2 }, "k2")), /only applies to the embedded key file/)

    const rotated = await runCli(["keys", "rotate", "--batch-size", "2"], envWith(base, { k1, k2 }, "k2"))
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(rotated.stdout).toBe("re-encrypted 2 shop tokens and re-wrapped 3 data keys under k2\n")
    expect(rotated.stderr).toBe("")
    for (const line of rotated.stdout.split("\n")) for (const t of Object.values(tokens)) expect(line).not.toContain(t)

    const after = await runCli(["keys", "status"], envWith(base, { k2 }, "k2"))
    expect(after.code, after.stderr).toBe(0)
    expect(after.stdout).toMatch(/^k2\s+2\s+3\s+current$/m)
    expect(after.stdout).not.toMatch(/^k1/m)
    expect(await withPostgres(url, readTokens(ringFrom({ k2 }, "k2"), Object.keys(tokens)))).toEqual(tokens)
  }, 120_000)

  it("on PostgreSQL without keys: `start` refuses, commands that open no sealed data work, the others say what is missing", async () => {
    const url = freshPostgresUrl()
    await withPostgres(url, EventStore.use((store) =>
      store.append("job-nokeys", "a.myshopify.com", "no_stream", [ev("job.requested", { jobId: "nokeys", input: { value: "v" } })], meta())))
    const env = envWith(cliEnv({ url }))
    const start = await runCli(["start", "--role", "ingress", "--port", "0"], env)
    expect(start.code).toBe(1)
    expect(start.stderr).toMatch(/DATABASE_URL is set, so SUMERU_ENCRYPTION_KEYS and SUMERU_ENCRYPTION_KEY_ID are required/)
    const status = await runCli(["projections", "status"], env)
    expect(status.code, status.stderr).toBe(0)
    expect(status.stderr).toBe("")
    await expectUserError(await runCli(["events", "replay", "--shop", "a.myshopify.com"], env), /SUMERU_ENCRYPTION_KEYS/)
  }, 120_000)

  it("embedded: `rotate --generate-key` adds a current key to keys.json and re-encrypts under it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sumeru-keys-cli-"))
    dirs.push(dataDir)
    const keyFile = join(dataDir, "keys.json")
    const env = envWith(cliEnv({ dataDir }))
    const tokens = { "a.myshopify.com": "shpat_embedded_a_123456" }
    const fileRing = Effect.flatMap(KeyRing.loadKeyFile(keyFile), (r) => KeyRing.make(r, keyFile))
    await withEmbedded(dataDir, seedWith(fileRing, tokens))
    const oldKid = (JSON.parse(readFileSync(keyFile, "utf8")) as { currentKid: string }).currentKid

    const rotated = await runCli(["keys", "rotate", "--generate-key"], env)
    expect(rotated.code, rotated.stderr).toBe(0)
    const file = JSON.parse(readFileSync(keyFile, "utf8")) as { currentKid: string; keys: Record<string, string> }
    expect(file.currentKid).not.toBe(oldKid)
    expect(Object.keys(file.keys).sort()).toEqual([oldKid, file.currentKid].sort())
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    expect(rotated.stdout).toContain(`generated key ${file.currentKid} in ${keyFile}; it is now the current key`)
    expect(rotated.stdout).toContain(`re-encrypted 1 shop token and re-wrapped 3 data keys under ${file.currentKid}`)
    // the embedded mode says where its keys are and what production should do instead
    expect(rotated.stderr).toContain("SUMERU_ENCRYPTION_KEYS")

    const status = await runCli(["keys", "status"], env)
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`^${file.currentKid}\\s+1\\s+3\\s+current$`, "m"))
    expect(status.stdout).toMatch(new RegExp(`^${oldKid}\\s+0\\s+0\\s+yes$`, "m"))
    // the new key alone opens everything
    const onlyNew = KeyRing.make({ currentKid: file.currentKid, keys: new Map([[file.currentKid, Buffer.from(file.keys[file.currentKid]!, "base64")]]) })
    expect(await withEmbedded(dataDir, readTokens(onlyNew, Object.keys(tokens)))).toEqual(tokens)
  }, 180_000)
})
