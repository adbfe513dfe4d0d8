/**
 * A shop's lifecycle with the app, as a decider over its `shop-<shop>` stream: installs
 * (OAuth or token exchange), uninstalls (`app/uninstalled`), the shop's redaction
 * (`shop/redact`, 48 hours after an uninstall), its plan (`app_subscriptions/update`) and its
 * IANA time zone (`shop/update`).
 *
 * The rule that matters: Shopify delivers webhooks late and out of order, so an uninstall can
 * arrive after the merchant has installed again. An uninstall that fired before the latest
 * install is *stale*: it is recorded (the history keeps it) but must not discard the new
 * install's token. The latest install is the later of what the stream says and what the token
 * store says (the token is stored before the install's message is handled, so the store may
 * know a re-install the stream does not have yet).
 */
import { Result, Schema } from "effect"
import { WebhookSource } from "../shopify/WebhookSource.ts"

// --- events -------------------------------------------------------------------------------

export const InstallMethod = Schema.Literals(["oauth", "token_exchange"])
export type InstallMethod = typeof InstallMethod.Type

/** `shop.installed`: never the token, only what it allows and how it was obtained. */
export const ShopInstalled = Schema.Struct({
  scopes: Schema.String,
  method: InstallMethod,
  installedAt: Schema.String
})
export type ShopInstalled = typeof ShopInstalled.Type

/** `shop.uninstalled`: whether the token was discarded, or kept because the uninstall was stale. */
export const ShopUninstalled = Schema.Struct({
  ...WebhookSource.fields,
  token_discarded: Schema.Boolean,
  stale: Schema.Boolean
})
export type ShopUninstalled = typeof ShopUninstalled.Type

/** The app plans a shop can be on (what an action's `requiredPlan` is compared with). */
export const ShopPlan = Schema.Literals(["free", "pro", "enterprise"])
export type ShopPlan = typeof ShopPlan.Type

/** `shop.plan_changed`: from an `app_subscriptions/update` webhook, or set by an operator. */
export const ShopPlanChanged = Schema.Struct({
  plan: ShopPlan,
  previousPlan: ShopPlan,
  source: Schema.Literals(["app_subscription", "operator"]),
  /** The subscription's name and status as Shopify sent them (app_subscription only). */
  subscription: Schema.NullOr(Schema.Struct({ name: Schema.String, status: Schema.String })),
  /** The operator who set it (operator only). */
  setBy: Schema.optional(Schema.String)
})
export type ShopPlanChanged = typeof ShopPlanChanged.Type

/**
 * `shop.timezone_changed`: the shop's IANA time zone (what quiet hours are read in), from the
 * `iana_timezone` of a `shop/update` webhook. Recorded only when it differs from the known one.
 */
export const ShopTimeZoneChanged = Schema.Struct({
  timeZone: Schema.String,
  /** Null when no zone was known (the shop's rules were read in UTC). */
  previousTimeZone: Schema.NullOr(Schema.String),
  source: Schema.Literals(["shop_update"])
})
export type ShopTimeZoneChanged = typeof ShopTimeZoneChanged.Type

/** `shop.redacted`: the shop's data was erased (its keys shredded, its side tables emptied). */
export const ShopRedacted = WebhookSource
export type ShopRedacted = typeof ShopRedacted.Type

export const SHOP_LIFECYCLE_EVENTS = {
  "shop.installed": ShopInstalled,
  "shop.uninstalled": ShopUninstalled,
  "shop.redacted": ShopRedacted,
  "shop.plan_changed": ShopPlanChanged,
  "shop.timezone_changed": ShopTimeZoneChanged
} as const

export type ShopLifecycleEvent =
  | { readonly type: "shop.installed"; readonly data: ShopInstalled; readonly occurredAt: Date }
  | { readonly type: "shop.uninstalled"; readonly data: ShopUninstalled; readonly occurredAt: Date }
  | { readonly type: "shop.redacted"; readonly data: ShopRedacted; readonly occurredAt: Date }
  | { readonly type: "shop.plan_changed"; readonly data: ShopPlanChanged; readonly occurredAt: Date }
  | { readonly type: "shop.timezone_changed"; readonly data: ShopTimeZoneChanged; readonly occurredAt: Date }

const StoredLifecycleEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("shop.installed"), data: ShopInstalled }),
  Schema.Struct({ type: Schema.Literal("shop.uninstalled"), data: ShopUninstalled }),
  Schema.Struct({ type: Schema.Literal("shop.redacted"), data: ShopRedacted }),
  Schema.Struct({ type: Schema.Literal("shop.plan_changed"), data: ShopPlanChanged }),
  Schema.Struct({ type: Schema.Literal("shop.timezone_changed"), data: ShopTimeZoneChanged })
])
const decodeStored = Schema.decodeUnknownResult(StoredLifecycleEvent)

/** A stored lifecycle event, decoded; `undefined` for another type or data that does not fit. */
export const decodeLifecycleEvent = (type: string, data: unknown, occurredAt: Date): ShopLifecycleEvent | undefined => {
  const decoded = decodeStored({ type, data })
  return Result.isSuccess(decoded) ? { ...decoded.success, occurredAt } : undefined
}

// --- state --------------------------------------------------------------------------------

export interface ShopLifecycle {
  readonly status: "new" | "installed" | "uninstalled" | "redacted"
  /** The latest install (ISO instant), null before the first. */
  readonly installedAt: string | null
  readonly scopes: string | null
  readonly uninstalledAt: string | null
  /** `free` until a subscription (or an operator) says otherwise. */
  readonly plan: ShopPlan
  /** The shop's IANA time zone; null until Shopify has told us (readers then use UTC). */
  readonly timeZone: string | null
  /** When the latest recorded zone change happened (ISO instant): older deliveries are stale. */
  readonly timeZoneSince: string | null
}

export const initialLifecycle: ShopLifecycle = {
  status: "new",
  installedAt: null,
  scopes: null,
  uninstalledAt: null,
  plan: "free",
  timeZone: null,
  timeZoneSince: null
}

const later = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : Date.parse(a) >= Date.parse(b) ? a : b)

export const evolveLifecycle = (state: ShopLifecycle, event: ShopLifecycleEvent): ShopLifecycle => {
  switch (event.type) {
    case "shop.installed":
      return { ...state, status: "installed", installedAt: later(state.installedAt, event.data.installedAt), scopes: event.data.scopes }
    case "shop.uninstalled":
      // a stale uninstall is history, not the shop's state
      return event.data.stale
        ? state
        : { ...state, status: state.status === "redacted" ? "redacted" : "uninstalled", uninstalledAt: event.occurredAt.toISOString() }
    case "shop.redacted":
      return { ...state, status: "redacted" }
    case "shop.plan_changed":
      return { ...state, plan: event.data.plan }
    case "shop.timezone_changed":
      return { ...state, timeZone: event.data.timeZone, timeZoneSince: later(state.timeZoneSince, event.occurredAt.toISOString()) }
  }
}

/**
 * The plan an `app_subscriptions/update` means: an ACTIVE subscription is the plan its name
 * says (`enterprise`, else `pro` when it names one, else `free`); a cancelled, declined, expired
 * or frozen one falls back to `free`; a pending or accepted one changes nothing yet.
 */
export const planOfSubscription = (subscription: { readonly name: string; readonly status: string }): ShopPlan | undefined => {
  const status = subscription.status.toUpperCase()
  if (["CANCELLED", "DECLINED", "EXPIRED", "FROZEN"].includes(status)) return "free"
  if (status !== "ACTIVE") return undefined
  const name = subscription.name.toLowerCase()
  return name.includes("enterprise") ? "enterprise" : /\bpro\b/.test(name) ? "pro" : "free"
}

/**
 * Whether `zone` names an IANA time zone this runtime can compute in (`Europe/Berlin`,
 * `Etc/UTC`): what `Intl.DateTimeFormat` accepts, less UTC offsets such as `+01:00` (a fixed
 * offset is not a zone: it has no daylight-saving rules).
 */
export const isIanaTimeZone = (zone: string): boolean => {
  if (zone.trim() !== zone || zone.length === 0 || /^[+\d-]/.test(zone)) return false
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone
    return !/^[+-]/.test(resolved)
  } catch {
    return false
  }
}

/** What a `shop/update` body says of the shop's time zone (its `iana_timezone`). */
export type ShopUpdateTimeZone =
  | { readonly _tag: "Valid"; readonly timeZone: string }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Invalid"; readonly reason: string }

export const timeZoneOfShopUpdate = (payload: unknown): ShopUpdateTimeZone => {
  const zone = typeof payload === "object" && payload !== null ? (payload as { iana_timezone?: unknown }).iana_timezone : undefined
  if (zone === undefined || zone === null) return { _tag: "Missing" }
  if (typeof zone !== "string" || !isIanaTimeZone(zone)) {
    return { _tag: "Invalid", reason: `iana_timezone ${JSON.stringify(zone)} is not an IANA time zone` }
  }
  return { _tag: "Valid", timeZone: zone }
}

// --- commands -----------------------------------------------------------------------------

/** Record an install (its token is already stored). Needs no state: every install is recorded. */
export interface RecordInstall {
  readonly scopes: string
  readonly method: InstallMethod
  readonly installedAt: string
}

export type ShopLifecycleCommand =
  | {
    readonly type: "RecordUninstall"
    readonly source: WebhookSource
    /** When the uninstall fired (Shopify's trigger time, else when it was received). */
    readonly occurredAt: Date
    /** When the token the store holds now was installed; null when it holds none. */
    readonly tokenInstalledAt: Date | null
  }
  | { readonly type: "RecordRedact"; readonly source: WebhookSource; readonly occurredAt: Date }
  | {
    readonly type: "SetPlan"
    readonly plan: ShopPlan
    readonly source: "app_subscription" | "operator"
    readonly subscription: { readonly name: string; readonly status: string } | null
    readonly setBy?: string | undefined
    readonly occurredAt: Date
  }
  | { readonly type: "SetTimeZone"; readonly timeZone: string; readonly source: "shop_update"; readonly occurredAt: Date }

/** What to do besides appending: discard the stored token (a fresh uninstall). */
export interface LifecycleDecision {
  readonly events: ReadonlyArray<ShopLifecycleEvent>
  readonly discardToken: boolean
}

/** Why a command was refused (a permanent failure: retrying cannot help). */
export interface LifecycleRefusal {
  readonly reason: string
}

/** `shop.installed`, dated by the install itself (a delayed uninstall is compared against it). */
export const decideInstall = (command: RecordInstall): Result.Result<ShopLifecycleEvent, LifecycleRefusal> => {
  const installedAt = new Date(command.installedAt)
  if (Number.isNaN(installedAt.getTime())) return Result.fail({ reason: "shopify.app_installed has an invalid installedAt" })
  return Result.succeed({
    type: "shop.installed",
    // field by field: whatever else the command's source carried never reaches the event
    data: { scopes: command.scopes, method: command.method, installedAt: command.installedAt },
    occurredAt: installedAt
  })
}

/** Uninstalls (stale or not, see the header) and redactions, given the shop's lifecycle so far. */
export const decideLifecycle = (command: ShopLifecycleCommand, state: ShopLifecycle): LifecycleDecision => {
  switch (command.type) {
    case "RecordUninstall": {
      const latestInstall = later(state.installedAt, command.tokenInstalledAt?.toISOString() ?? null)
      const stale = latestInstall !== null && Date.parse(latestInstall) > command.occurredAt.getTime()
      return {
        events: [{ type: "shop.uninstalled", data: { ...command.source, token_discarded: !stale, stale }, occurredAt: command.occurredAt }],
        discardToken: !stale
      }
    }
    case "RecordRedact":
      return { events: [{ type: "shop.redacted", data: command.source, occurredAt: command.occurredAt }], discardToken: false }
    case "SetPlan":
      // the same plan again is no change
      return command.plan === state.plan
        ? { events: [], discardToken: false }
        : {
          events: [{
            type: "shop.plan_changed",
            data: {
              plan: command.plan,
              previousPlan: state.plan,
              source: command.source,
              subscription: command.subscription,
              ...(command.setBy === undefined ? {} : { setBy: command.setBy })
            },
            occurredAt: command.occurredAt
          }],
          discardToken: false
        }
    case "SetTimeZone": {
      // The same zone again is no change; a zone that is not one is never recorded; a delivery
      // that fired before the latest recorded change is stale (it must not turn the clock back).
      const stale = state.timeZoneSince !== null && command.occurredAt.getTime() < Date.parse(state.timeZoneSince)
      return command.timeZone === state.timeZone || stale || !isIanaTimeZone(command.timeZone)
        ? { events: [], discardToken: false }
        : {
          events: [{
            type: "shop.timezone_changed",
            data: { timeZone: command.timeZone, previousTimeZone: state.timeZone, source: command.source },
            occurredAt: command.occurredAt
          }],
          discardToken: false
        }
    }
  }
}
