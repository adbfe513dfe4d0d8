/**
 * `sumeru origins list | add | remove` on PostgreSQL 15: a custom storefront domain is added
 * canonically, is what the pixel's CORS check reads, and can be removed; junk is refused.
 */
import { expect, it } from "vitest"
import * as PgStorefrontOrigins from "../../adapters/postgres/PgStorefrontOrigins.ts"
import { freshPostgresUrl } from "../support/databases.ts"
import { cliEnv, expectUserError, runCli, withPostgres } from "../cli/support.ts"

const SHOP = "cli-origins.myshopify.com"

it("adds, lists and removes a storefront origin; refuses what is not an origin", async () => {
  const url = freshPostgresUrl()
  const env = cliEnv({ url })
  const added = await runCli(["origins", "add", "--shop", SHOP, "https://Shop.Example.com/"], env)
  expect(added.code, added.stderr).toBe(0)
  expect(added.stdout).toContain("allowed https://shop.example.com")
  const listed = await runCli(["origins", "list", "--shop", SHOP], env)
  expect(listed.stdout.trim().split("\n")).toEqual([`https://${SHOP}`, "https://shop.example.com"])
  expect(await withPostgres(url, PgStorefrontOrigins.allowedOrigins(SHOP))).toEqual([`https://${SHOP}`, "https://shop.example.com"])
  expectUserError(await runCli(["origins", "add", "--shop", SHOP, "https://shop.example.com/path?q=1"], env), /not an origin/)
  const removed = await runCli(["origins", "remove", "--shop", SHOP, "https://shop.example.com"], env)
  expect(removed.code, removed.stderr).toBe(0)
  expectUserError(await runCli(["origins", "remove", "--shop", SHOP, "https://shop.example.com"], env), /not a registered origin/)
  expect((await runCli(["origins", "list", "--shop", SHOP], env)).stdout.trim()).toBe(`https://${SHOP}`)
}, 60_000)
