/**
 * `sumeru deadletters list | redrive` on PostgreSQL 15 with the embedded shop log: a dead
 * letter is listed, re-driven under a new message id into its shop's log, and then hidden
 * from the default list.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { expect, it } from "vitest"
import { freshPostgresUrl } from "../support/databases.ts"
import { cliEnv, expectUserError, runCli, withPostgres } from "./support.ts"

it("lists dead letters and re-drives one into its shop's log under a new id", async () => {
  const url = freshPostgresUrl()
  const env = cliEnv({ url })
  await withPostgres(url, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const message = { shop: "dl.myshopify.com", messageId: "wh-1", type: "test.append", payload: { n: 1 }, publishedAt: "2026-01-01T00:00:00Z" }
    yield* sql`INSERT INTO dead_letters (shop, message_id, message, error, attempts, permanent)
               VALUES ('dl.myshopify.com', 'wh-1', ${JSON.stringify(message)}::jsonb, 'TransientFailure: upstream down', 8, false)`
  }))
  const listed = await runCli(["deadletters", "list"], env)
  expect(listed.code, listed.stderr).toBe(0)
  expect(listed.stdout).toMatch(/dl\.myshopify\.com\s+test\.append\s+8\s+transient/)
  expect(listed.stdout).toContain("upstream down")

  const redriven = await runCli(["deadletters", "redrive", "1"], env)
  expect(redriven.code, redriven.stderr).toBe(0)
  expect(redriven.stdout).toContain("wh-1:redrive:1")
  const queued = await withPostgres(url, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<{ message_id: string; message: { type: string; payload: unknown } }>`SELECT message_id, message FROM shop_log`
  }))
  expect(queued).toHaveLength(1)
  expect(queued[0]!.message_id).toBe("wh-1:redrive:1")
  expect(queued[0]!.message).toMatchObject({ type: "test.append", payload: { n: 1 } })

  expect((await runCli(["deadletters", "list"], env)).stdout).toContain("no dead letters")
  expect((await runCli(["deadletters", "list", "--all"], env)).stdout).toContain("re-driven as wh-1:redrive:1")
  expectUserError(await runCli(["deadletters", "redrive", "1"], env), /already re-driven/)
  expectUserError(await runCli(["deadletters", "redrive", "99"], env), /not found/)
}, 120_000)
