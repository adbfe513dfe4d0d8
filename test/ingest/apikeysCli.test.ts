/**
 * `sumeru apikeys create | list | revoke` on PostgreSQL 15: the key is printed once (alone on
 * stdout), verifies, is listed without its secret, and stops verifying once revoked.
 */
import { Effect, Option } from "effect"
import { expect, it } from "vitest"
import * as PgApiKeys from "../../adapters/postgres/PgApiKeys.ts"
import { ApiKeys } from "../../src/access/ApiKeys.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { cliEnv, expectUserError, runCli, withPostgres } from "../cli/support.ts"

const SHOP = "cli-keys.myshopify.com"

it("creates a key (printed once), lists it without the secret, revokes it", async () => {
  const url = freshPostgresUrl()
  const env = cliEnv({ url })
  const verify = (key: string) => withPostgres(url, Effect.provide(ApiKeys.use((k) => k.verify(key)), PgApiKeys.layer()))

  const created = await runCli(["apikeys", "create", "--shop", SHOP, "--name", "Ads sync", "--scopes", "events:write"], env)
  expect(created.code, created.stderr).toBe(0)
  const key = created.stdout.trim()
  expect(key).toMatch(/^sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
  const keyId = key.split("_")[1]!
  expect(created.stderr).toContain(`Created API key ${keyId}`)
  expect(Option.map(await verify(key), (p) => [p.shop, p.scopes])).toEqual(Option.some([SHOP, ["events:write"]]))

  const operator = await runCli(["apikeys", "create", "--shop", SHOP, "--name", "Ops", "--role", "operator"], env)
  expect(operator.code, operator.stderr).toBe(0)

  const listed = await runCli(["apikeys", "list", "--shop", SHOP], env)
  expect(listed.code, listed.stderr).toBe(0)
  expect(listed.stdout).toMatch(new RegExp(`${keyId}\\s+active\\s+Ads sync\\s+-\\s+events:write`))
  expect(listed.stdout).toMatch(/active\s+Ops\s+operator/)
  expect(listed.stdout).not.toContain(key.slice(`sk_${keyId}_`.length))

  const revoked = await runCli(["apikeys", "revoke", "--shop", SHOP, keyId], env)
  expect(revoked.code, revoked.stderr).toBe(0)
  expect(revoked.stdout).toContain(`revoked API key ${keyId}`)
  expect(Option.isNone(await verify(key))).toBe(true)
  expect((await runCli(["apikeys", "list", "--shop", SHOP], env)).stdout).toMatch(new RegExp(`${keyId}\\s+revoked`))

  expectUserError(await runCli(["apikeys", "revoke", "--shop", "other.myshopify.com", keyId], env), /has no API key/)
  expectUserError(await runCli(["apikeys", "create", "--shop", SHOP, "--name", "Bad", "--scopes", "rockets:launch"], env), /unknown scope\(s\) rockets:launch/)
  expect((await runCli(["apikeys", "list", "--shop", "nobody.myshopify.com"], env)).stdout).toContain("no API keys")
}, 180_000)
