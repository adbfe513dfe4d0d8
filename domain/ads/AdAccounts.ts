/**
 * A shop's connected ad accounts (issue 12 §2), as events on `ad-accounts-<shop>`: connected (the
 * platform, the account id and its OAuth credentials, sealed under the shop's key like Shopify
 * tokens — never in clear in an event or a message), disconnected (the credentials' key is
 * shredded). Connecting an account again replaces its credentials (a refreshed token).
 */
import { Result, Schema } from "effect"

export const AD_ACCOUNT_PLATFORMS = ["google", "meta", "tiktok"] as const
export type AdAccountPlatform = typeof AD_ACCOUNT_PLATFORMS[number]

export const adAccountsStreamId = (shop: string) => `ad-accounts-${shop}`
export const adAccountKey = (platform: string, accountId: string) => `${platform}:${accountId}`
/**
 * The subject a connection's credentials are sealed under: one per connection, so disconnecting
 * (which shreds it) never stops the account from being connected again.
 */
export const adAccountSubject = (platform: string, accountId: string, connectionId: string) => `ad-account:${platform}:${accountId}:${connectionId}`

const Sealed = Schema.Struct({ sealed: Schema.Literal(1), subject: Schema.String, data: Schema.String })

export const AdAccountEvent = Schema.Union([
  Schema.Struct({
    type: Schema.Literal("ad_account.connected"),
    platform: Schema.Literals(AD_ACCOUNT_PLATFORMS),
    accountId: Schema.String,
    credentials: Sealed,
    by: Schema.String
  }),
  Schema.Struct({ type: Schema.Literal("ad_account.disconnected"), platform: Schema.Literals(AD_ACCOUNT_PLATFORMS), accountId: Schema.String, by: Schema.String })
])
export type AdAccountEvent = typeof AdAccountEvent.Type

export const ConnectedAccount = Schema.Struct({
  platform: Schema.Literals(AD_ACCOUNT_PLATFORMS),
  accountId: Schema.String,
  credentials: Sealed,
  connectedAt: Schema.String,
  connectedBy: Schema.String
})
export type ConnectedAccount = typeof ConnectedAccount.Type
export const AdAccounts = Schema.Record(Schema.String, ConnectedAccount)
export type AdAccounts = typeof AdAccounts.Type

/** What the sealed credentials hold. */
export const AdCredentials = Schema.Struct({
  accessToken: Schema.String,
  developerToken: Schema.optional(Schema.String),
  loginCustomerId: Schema.optional(Schema.String)
})
export type AdCredentials = typeof AdCredentials.Type

export const evolveAdAccounts = (state: AdAccounts, e: AdAccountEvent, at: Date): AdAccounts => {
  const key = adAccountKey(e.platform, e.accountId)
  if (e.type === "ad_account.connected") {
    return { ...state, [key]: { platform: e.platform, accountId: e.accountId, credentials: e.credentials, connectedAt: at.toISOString(), connectedBy: e.by } }
  }
  const { [key]: _gone, ...rest } = state
  return rest
}

export type AdAccountCommand =
  | { readonly type: "connect"; readonly platform: AdAccountPlatform; readonly accountId: string; readonly credentials: typeof Sealed.Type }
  | { readonly type: "disconnect"; readonly platform: AdAccountPlatform; readonly accountId: string }

export const decideAdAccount = (state: AdAccounts, command: AdAccountCommand, by: string): Result.Result<ReadonlyArray<AdAccountEvent>, { readonly code: "not_found"; readonly message: string }> => {
  if (command.type === "connect") return Result.succeed([{ type: "ad_account.connected", platform: command.platform, accountId: command.accountId, credentials: command.credentials, by }])
  return state[adAccountKey(command.platform, command.accountId)] === undefined
    ? Result.fail({ code: "not_found", message: `no ${command.platform} account ${command.accountId} is connected` })
    : Result.succeed([{ type: "ad_account.disconnected", platform: command.platform, accountId: command.accountId, by }])
}

/** The account a trigger about `platform` means: the named one, or the shop's only one on that platform. */
export const accountFor = (state: AdAccounts, platform: string, accountId: string | undefined): Result.Result<ConnectedAccount, string> => {
  if (accountId !== undefined) {
    const a = state[adAccountKey(platform, accountId)]
    return a === undefined ? Result.fail(`no ${platform} account ${accountId} is connected (sumeru ads connect)`) : Result.succeed(a)
  }
  const all = Object.values(state).filter((a) => a.platform === platform)
  if (all.length === 1) return Result.succeed(all[0]!)
  return Result.fail(all.length === 0 ? `no ${platform} account is connected (sumeru ads connect)` : `${all.length} ${platform} accounts are connected and the trigger names none`)
}
