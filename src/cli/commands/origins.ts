/**
 * `sumeru origins list|add|remove --shop S [origin]`: the storefront domains allowed to send
 * the shop's pixel touchpoints (CORS). `https://<shop>.myshopify.com` is always allowed; a
 * custom storefront domain (`https://shop.example.com`) has to be added.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as PgStorefrontOrigins from "../../../adapters/postgres/PgStorefrontOrigins.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine } from "../output.ts"

const shopFlag = Flag.String("shop").pipe(Flag.withDescription("The shop (example.myshopify.com)"))
const originArgument = Argument.String("origin").pipe(Argument.withDescription("An origin, e.g. https://shop.example.com"))

const list = Command.make("list", { shop: shopFlag }, ({ shop }) =>
  withCore(Effect.gen(function*() {
    for (const origin of yield* PgStorefrontOrigins.allowedOrigins(shop.toLowerCase())) yield* printLine(origin)
  }))).pipe(Command.withDescription("The origins allowed to send the shop's touchpoints"))

const add = Command.make("add", { shop: shopFlag, origin: originArgument }, ({ origin, shop }) =>
  withCore(Effect.gen(function*() {
    const canonical = yield* PgStorefrontOrigins.addOrigin(shop.toLowerCase(), origin).pipe(
      Effect.catchTag("InvalidOrigin", (e) => fail(e.message))
    )
    yield* printLine(`allowed ${canonical} for ${shop.toLowerCase()} (ingress processes pick it up within 30 s)`)
  }))).pipe(Command.withDescription("Allow a custom storefront origin"))

const remove = Command.make("remove", { shop: shopFlag, origin: originArgument }, ({ origin, shop }) =>
  withCore(Effect.gen(function*() {
    const removed = yield* PgStorefrontOrigins.removeOrigin(shop.toLowerCase(), origin)
    if (!removed) return yield* fail(`${origin} is not a registered origin of ${shop.toLowerCase()}`)
    yield* printLine(`removed ${origin}`)
  }))).pipe(Command.withDescription("Stop allowing a custom storefront origin"))

export const originsCommand = Command.make("origins").pipe(
  Command.withDescription("Storefront origins allowed to send pixel touchpoints (CORS)"),
  Command.withSubcommands([list, add, remove])
)
