/**
 * `sumeru apikeys create --shop S --name N --scopes events:write[,…] [--role R]`,
 * `sumeru apikeys list --shop S` and `sumeru apikeys revoke --shop S <keyId>`: per-shop API
 * keys for the public ingest API (`events:write`) and operators (a role and/or scopes).
 * `create` prints the key once (only its hash is stored); `list` never shows secrets.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as PgApiKeys from "../../../adapters/postgres/PgApiKeys.ts"
import { ApiKeys } from "../../access/ApiKeys.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine } from "../output.ts"

const shopFlag = Flag.String("shop").pipe(Flag.withDescription("The shop (example.myshopify.com)"))

const withApiKeys = <A, E>(effect: Effect.Effect<A, E, ApiKeys>) =>
  withCore(Effect.provide(effect, PgApiKeys.layer()))

const create = Command.make(
  "create",
  {
    shop: shopFlag,
    name: Flag.String("name").pipe(Flag.withDescription("What the key is for (e.g. \"Google Ads sync\")")),
    scopes: Flag.String("scopes").pipe(
      Flag.withDescription("Permissions, comma-separated (events:write for the ingest API)"),
      Flag.withDefault("")
    ),
    role: Flag.String("role").pipe(Flag.withDescription("An admin role for operator keys: owner, admin, operator, analyst, viewer"), Flag.optional)
  },
  ({ name, role, scopes, shop }) =>
    withApiKeys(Effect.gen(function*() {
      const keys = yield* ApiKeys
      const created = yield* keys.create({
        shop: shop.toLowerCase(),
        name,
        scopes: scopes.split(",").map((s) => s.trim()).filter((s) => s !== ""),
        role: Option.getOrNull(role)
      }).pipe(Effect.catchTag("InvalidApiKeyRequest", (e) => fail(e.message)))
      yield* printLine(created.key)
      // The key alone on stdout (scripts capture it); the notice on stderr.
      yield* Effect.sync(() =>
        process.stderr.write(`Created API key ${created.keyId} for ${shop.toLowerCase()}. This is the only time the key is shown: store it now.\n`)
      )
    }))
).pipe(Command.withDescription("Create an API key and print it (once)"))

const list = Command.make(
  "list",
  { shop: shopFlag },
  ({ shop }) =>
    withApiKeys(Effect.gen(function*() {
      const keys = yield* ApiKeys
      const rows = yield* keys.list(shop.toLowerCase())
      if (rows.length === 0) return yield* printLine("no API keys")
      yield* printLine(["key id".padEnd(12), "status ", "name".padEnd(24), "role".padEnd(8), "scopes".padEnd(24), "created".padEnd(24), "last used"].join("  "))
      for (const k of rows) {
        yield* printLine([
          k.keyId.padEnd(12),
          (k.revokedAt === null ? "active" : "revoked").padEnd(7),
          k.name.padEnd(24),
          (k.role ?? "-").padEnd(8),
          (k.scopes.length === 0 ? "-" : k.scopes.join(",")).padEnd(24),
          k.createdAt.toISOString().padEnd(24),
          k.lastUsedAt === null ? "never" : k.lastUsedAt.toISOString()
        ].join("  "))
      }
    }))
).pipe(Command.withDescription("List the shop's API keys (never their secrets)"))

const revoke = Command.make(
  "revoke",
  { shop: shopFlag, keyId: Argument.String("keyId").pipe(Argument.withDescription("The key's id (see list)")) },
  ({ keyId, shop }) =>
    withApiKeys(Effect.gen(function*() {
      const keys = yield* ApiKeys
      const revoked = yield* keys.revoke(shop.toLowerCase(), keyId)
      if (!revoked) return yield* fail(`${shop.toLowerCase()} has no API key ${keyId}`)
      yield* printLine(`revoked API key ${keyId}; it stops working at once`)
    }))
).pipe(Command.withDescription("Revoke an API key (it stops working at once)"))

export const apiKeysCommand = Command.make("apikeys").pipe(
  Command.withDescription("Per-shop API keys: create, list, revoke"),
  Command.withSubcommands([create, list, revoke])
)
