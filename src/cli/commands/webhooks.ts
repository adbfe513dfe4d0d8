/**
 * `sumeru webhooks list|deliveries|redrive <shop> …`: a shop's outbound webhooks as an operator
 * sees them (issue 12 §1) — what `GET /app/webhook-subscriptions`, `GET /app/webhook-deliveries`
 * and `POST /app/webhook-deliveries/:id/redrive` do over the admin API.
 *
 * - `list` folds the shop's `webhook-subscriptions-<shop>` stream (`readSubscriptions`): a change
 *   just applied is there. A subscription's secret is never shown (it was shown once, at creation).
 * - `deliveries` reads the `webhook_deliveries` read model as the shop (row-level security),
 *   at most `--limit` (default 50) with the total,
 *   newest first: it lags the delivery streams by the projector's lag.
 * - `redrive` only a dead-lettered delivery: the read model is checked first (not found, not dead:
 *   exit 1 with the reason, nothing sent); then the redrive goes to the shop's actor, the single
 *   writer (`outbound.redrive` on the shop's log), which starts a new round of attempts. The
 *   command does not wait for it (`deliveries --status pending` shows it once it is applied).
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { DELIVERY_STATUSES, deliveryJson, type DeliveryRow, findDelivery, listDeliveries } from "../../../adapters/postgres/PgWebhookDeliveries.ts"
import type { Subscription } from "../../../domain/outbound/Webhooks.ts"
import { readSubscriptions, submitRedrive, subscriptionJson } from "../../outbound/SubscriptionCommands.ts"
import * as ShopLogLayer from "../../shoplog/ShopLogLayer.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { operatorLabel } from "../operator.ts"
import { printJson, printLine, renderTable } from "../output.ts"

const shopArgument = Argument.String("shop").pipe(Argument.withDescription("The shop (example.myshopify.com)"))
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON (the admin API's shapes)"), Flag.withDefault(false))

const clip = (text: string, width: number): string => (text.length <= width ? text : `${text.slice(0, width - 1)}…`)

const list = Command.make(
  "list",
  { shop: shopArgument, json: jsonFlag },
  ({ json, shop: given }) =>
    withCore(Effect.gen(function*() {
      const shop = given.toLowerCase()
      const subs = Object.values(yield* readSubscriptions(shop))
        .filter((s) => s.status !== "deleted")
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.subscriptionId.localeCompare(b.subscriptionId))
      if (json) return yield* printJson({ subscriptions: subs.map(subscriptionJson) })
      if (subs.length === 0) return yield* printLine("no webhook subscriptions")
      yield* printLine(renderTable<Subscription>([
        { header: "ID", value: (s) => s.subscriptionId },
        { header: "STATUS", value: (s) => (s.failingSince === null ? s.status : `${s.status}, failing since ${s.failingSince}`) },
        { header: "CREATED", value: (s) => s.createdAt },
        { header: "EVENTS", value: (s) => s.events.join(",") },
        { header: "URL", value: (s) => s.url }
      ], subs))
    }))
).pipe(Command.withDescription("The shop's webhook subscriptions (never their secrets)"))

const deliveries = Command.make(
  "deliveries",
  {
    shop: shopArgument,
    status: Flag.Literals("status", DELIVERY_STATUSES).pipe(Flag.withDescription("Only deliveries with this status: pending, delivered or dead"), Flag.optional),
    limit: Flag.Int("limit").pipe(
      Flag.filterMap((n) => (n >= 1 && n <= 1000 ? Option.some(n) : Option.none<number>()), () => "a number from 1 to 1000"),
      Flag.withDescription("At most this many, newest first"),
      Flag.withDefault(50)
    ),
    json: jsonFlag
  },
  ({ json, limit, shop: given, status }) =>
    withCore(Effect.gen(function*() {
      const shop = given.toLowerCase()
      const page = yield* listDeliveries(shop, { status: Option.getOrNull(status), limit }).pipe(
        // no projector has run on this database yet: one line, without the error's tag
        Effect.catchTag("ReadModelNotBuilt", (e) => fail(e.message))
      )
      if (json) return yield* printJson({ deliveries: page.deliveries.map(deliveryJson), total: page.total })
      const which = Option.match(status, { onNone: () => "webhook deliveries", onSome: (s) => `${s} webhook deliveries` })
      if (page.total === 0) return yield* printLine(`no ${which}`)
      yield* printLine(renderTable<DeliveryRow>([
        { header: "ID", value: (r) => r.delivery_id },
        { header: "STATUS", value: (r) => r.status },
        { header: "ATTEMPTS", value: (r) => String(r.attempts), align: "right" },
        { header: "EVENT", value: (r) => r.event },
        { header: "CREATED", value: (r) => deliveryJson(r).created_at },
        { header: "NEXT ATTEMPT", value: (r) => deliveryJson(r).next_attempt_at ?? "-" },
        { header: "LAST ERROR", value: (r) => (r.last_error === null ? "" : clip(r.last_error, 80)) }
      ], page.deliveries))
      if (page.total > page.deliveries.length) {
        yield* printLine(`(${page.deliveries.length} of ${page.total} ${which}, newest first; --limit shows more)`)
      }
    }))
).pipe(Command.withDescription("The shop's outbound webhook deliveries, newest first (from the webhook_deliveries read model)"))

const redrive = Command.make(
  "redrive",
  {
    shop: shopArgument,
    deliveryId: Argument.String("delivery-id").pipe(Argument.withDescription("A dead delivery's id (see `sumeru webhooks deliveries <shop> --status dead`)")),
    json: jsonFlag
  },
  ({ deliveryId: id, json, shop: given }) =>
    withCore(Effect.gen(function*() {
      const shop = given.toLowerCase()
      const found = yield* findDelivery(shop, id).pipe(
        // no projector has run on this database yet: one line, without the error's tag
        Effect.catchTag("ReadModelNotBuilt", (e) => fail(e.message))
      )
      const refuse = (code: "not_found" | "not_dead", message: string) =>
        Effect.andThen(json ? printJson({ id, status: "refused", code, message }) : Effect.void, fail(message))
      if (Option.isNone(found)) return yield* refuse("not_found", `${shop} has no webhook delivery ${id} (see \`sumeru webhooks deliveries ${shop}\`)`)
      if (found.value.status !== "dead") {
        return yield* refuse("not_dead", `delivery ${id} is not dead (it is ${found.value.status}): only a dead-lettered delivery can be redriven`)
      }
      yield* submitRedrive(shop, id, operatorLabel()).pipe(
        Effect.catchTag("ShopLogUnavailable", (e) => fail(`cannot publish to the shop's log: ${e.message}`))
      )
      return yield* json
        ? printJson({ id, status: "redriven" })
        : printLine(`redrive of delivery ${id} sent to ${shop}'s actor: a new round of attempts starts when it is handled`)
    }).pipe(Effect.provide(ShopLogLayer.layerFromConfig)))
).pipe(Command.withDescription("Send a dead-lettered delivery again (a new round of attempts, through the shop's actor)"))

export const webhooksCommand = Command.make("webhooks").pipe(
  Command.withDescription("A shop's outbound webhooks: subscriptions, deliveries, redrive of a dead one"),
  Command.withSubcommands([list, deliveries, redrive])
)
