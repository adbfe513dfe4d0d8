/**
 * A shop's connected ad accounts (`domain/ads/AdAccounts.ts`) inside Sumeru: the fold, the shop
 * actor's handler (the single writer: connect, disconnect — whose credentials' key is shredded),
 * the operator's side (`sumeru ads connect|list|disconnect`: the credentials are sealed under the
 * shop's key before they leave the process, then the change goes to the actor and is waited for,
 * bounded), and resolving the account a trigger names into an `AdAccount` for the clients.
 */
import { Duration, Effect, Option, Redacted, Result, Schema } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import {
  accountFor,
  AdAccountEvent,
  type AdAccountPlatform,
  AdAccounts,
  AdCredentials,
  adAccountKey,
  adAccountsStreamId,
  adAccountSubject,
  decideAdAccount,
  evolveAdAccounts
} from "../../domain/ads/AdAccounts.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { EventStore, type Fold } from "../eventstore/EventStore.ts"
import { awaitCommitted } from "../eventstore/LogWakeups.ts"
import { PiiVault } from "../secrets/Secrets.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"
import type { AdAccount } from "./AdPlatform.ts"
import { insightsTimer, insightsTimerId } from "./InsightsSchedule.ts"

const decodeEvent = Schema.decodeUnknownResult(AdAccountEvent)

export const adAccountsFold: Fold<AdAccounts> = {
  name: "ad_accounts",
  version: 1,
  initial: () => ({}),
  evolve: (state, event) => {
    const e = decodeEvent(event.data)
    return Result.isSuccess(e) ? evolveAdAccounts(state, e.success, event.occurredAt) : state
  },
  schema: AdAccounts
}

export const readAdAccounts = (shop: string) =>
  Effect.map(Effect.flatMap(EventStore, (store) => store.loadFold(adAccountsStreamId(shop), adAccountsFold)), (f) => f.state)

export const makeAdAccountHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  const vault = yield* PiiVault
  return {
    "ads.account_command": (ctx) =>
      Effect.gen(function*() {
        const { command, by } = ctx.message.payload
        const streamId = adAccountsStreamId(ctx.shop)
        const { state, version } = yield* store.loadFold(streamId, adAccountsFold)
        const decided = decideAdAccount(state, command, by)
        if (Result.isFailure(decided)) {
          yield* Effect.logInfo(`ad account ${command.platform}:${command.accountId}: ${command.type} refused (${decided.failure.message})`)
          return { appends: [] }
        }
        const existing = state[adAccountKey(command.platform, command.accountId)]
        const decision: Decision = {
          appends: [{ streamId, expected: version === 0 ? "no_stream" as const : version, events: decided.success.map((e) => ({ type: e.type, data: e })) }],
          // a connected account's insights are pulled daily; a disconnected one's credentials become unreadable
          ...(command.type === "connect"
            ? { schedule: [insightsTimer(command.platform, command.accountId, new Date())] }
            : { cancelTimers: [insightsTimerId(command.platform, command.accountId)] }),
          afterCommit: command.type === "disconnect" && existing !== undefined ? Effect.ignore(vault.shred(ctx.shop, existing.credentials.subject)) : undefined
        }
        return decision
      })
  } satisfies Partial<HandlerRegistry>
})

export type AdAccountOutcome = { readonly _tag: "Done" } | { readonly _tag: "Pending" }

/** Connects (or reconnects, replacing the credentials) or disconnects an account through the shop's actor, waiting at most `wait`. */
export const submitAdAccountChange = (
  shop: string,
  change:
    | { readonly type: "connect"; readonly platform: AdAccountPlatform; readonly accountId: string; readonly credentials: AdCredentials }
    | { readonly type: "disconnect"; readonly platform: AdAccountPlatform; readonly accountId: string },
  by: string,
  wait: Duration.Input = Duration.seconds(10)
) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const vault = yield* PiiVault
    const { version: before } = yield* store.loadFold(adAccountsStreamId(shop), adAccountsFold)
    const command = change.type === "connect"
      ? {
        type: "connect" as const,
        platform: change.platform,
        accountId: change.accountId,
        credentials: yield* vault.seal(shop, adAccountSubject(change.platform, change.accountId, uuidV7Unsafe()), change.credentials)
      }
      : { type: "disconnect" as const, platform: change.platform, accountId: change.accountId }
    const commandId = uuidV7Unsafe()
    yield* log.publish({
      shop,
      messageId: `ads.account:${commandId}`,
      ...encodeShopMessage({ type: "ads.account_command", payload: { commandId, by, command } }),
      correlationId: commandId
    })
    const key = adAccountKey(change.platform, change.accountId)
    const outcome = Effect.map(store.loadFold(adAccountsStreamId(shop), adAccountsFold), ({ state, version }) =>
      version > before && (change.type === "connect") === (state[key] !== undefined) ? Option.some<AdAccountOutcome>({ _tag: "Done" }) : Option.none<AdAccountOutcome>())
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): AdAccountOutcome => ({ _tag: "Pending" }))))
  })

/** The account a trigger about `platform` means (named, or the shop's only one there), its credentials opened. */
export const resolveAdAccount = (shop: string, platform: AdAccountPlatform, accountId: string | undefined) =>
  Effect.gen(function*() {
    const accounts = yield* readAdAccounts(shop)
    const chosen = accountFor(accounts, platform, accountId)
    if (Result.isFailure(chosen)) return Result.fail<string>(chosen.failure)
    const vault = yield* PiiVault
    const opened = yield* vault.open(shop, chosen.success.credentials)
    const credentials = Option.flatMap(opened, (v) => Option.getSuccess(Schema.decodeUnknownResult(AdCredentials)(v)))
    if (Option.isNone(credentials)) return Result.fail<string>(`the credentials of ${platform} account ${chosen.success.accountId} are unreadable; connect it again`)
    const c = credentials.value
    const account: AdAccount = {
      platform,
      accountId: chosen.success.accountId,
      accessToken: Redacted.make(c.accessToken),
      ...(c.developerToken === undefined ? {} : { developerToken: Redacted.make(c.developerToken) }),
      ...(c.loginCustomerId === undefined ? {} : { loginCustomerId: c.loginCustomerId })
    }
    return Result.succeed(account)
  })
