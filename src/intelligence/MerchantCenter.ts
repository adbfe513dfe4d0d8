/**
 * Google Merchant Center product statuses, as the intelligence plane reads them (the
 * `mc.product_disapproved` / `mc.product_approved` triggers are derived from them elsewhere): the
 * contract here, the client on the official `@googleapis/merchantapi` (Products sub-API,
 * `products_v1`) in `adapters/merchantcenter/MerchantCenterClient.ts`, a protocol-faithful
 * simulator in `src/simulator/merchantcenter/`.
 */
import type { DestinationStatus, OfferStatus } from "../../domain/intelligence/merchantStatus.ts"
import { Context, Effect, Layer, Schema } from "effect"

/** A product's status in one reporting context (`domain/intelligence/merchantStatus.ts`). */
export type MerchantDestinationStatus = DestinationStatus

/**
 * One processed product of a Merchant Center account and what Google thinks of it: the offer id
 * (e.g. `shopify_US_1234567_4567`, what the Shopify Google channel submits), the Shopify product
 * id parsed from it (else the offer id), one status per reporting context (`SHOPPING_ADS`,
 * `FREE_LISTINGS`, …) and the item-level issues once each.
 */
export type MerchantProductStatus = OfferStatus

/** Merchant Center said no (bad request, no access to the account); retrying will not help. */
export class MerchantCenterRefused extends Schema.TaggedError<MerchantCenterRefused>()("MerchantCenterRefused", {
  status: Schema.Number,
  message: Schema.String
}) {}

/** Merchant Center could not answer now (quota, 5xx, network); the next pull tries again. */
export class MerchantCenterUnavailable extends Schema.TaggedError<MerchantCenterUnavailable>()("MerchantCenterUnavailable", {
  message: Schema.String
}) {}

export type MerchantCenterError = MerchantCenterRefused | MerchantCenterUnavailable

export class MerchantCenter extends Context.Service<MerchantCenter, {
  /**
   * Every processed product of the account (`"123"` or `"accounts/123"`) with its status per
   * destination and its item-level issues, paginated to the end, in the order Google lists them.
   */
  readonly statuses: (accountId: string) => Effect.Effect<ReadonlyArray<MerchantProductStatus>, MerchantCenterError>
}>()("sumeru/intelligence/MerchantCenter") {}

/** No Merchant Center account connected: a pull says so and records nothing. */
export const layerNotConfigured: Layer.Layer<MerchantCenter> = Layer.succeed(MerchantCenter, MerchantCenter.of({
  statuses: () => Effect.fail(new MerchantCenterRefused({ status: 0, message: "Merchant Center is not configured (no account or access token)" }))
}))

const SHOPIFY_OFFER = /^shopify_[A-Za-z]{2}_(\d+)_(\d+)$/

/** The Shopify product id of a Shopify-channel offer id (`shopify_US_1234567_4567` → `1234567`), else the offer id. */
export const productIdOfOffer = (offerId: string): string => SHOPIFY_OFFER.exec(offerId)?.[1] ?? offerId

/**
 * A destination's status from its country lists: disapproved if disapproved in any country, else
 * pending if pending in any, else approved.
 */
export const destinationStatus = (countries: {
  readonly disapprovedCountries?: ReadonlyArray<string> | null | undefined
  readonly pendingCountries?: ReadonlyArray<string> | null | undefined
}): MerchantDestinationStatus =>
  (countries.disapprovedCountries?.length ?? 0) > 0 ? "disapproved" : (countries.pendingCountries?.length ?? 0) > 0 ? "pending" : "approved"
