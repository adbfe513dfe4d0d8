/**
 * A protocol-faithful local simulator of the Google Ads API's REST interface (v23–v26) for the
 * ads client: GAQL `searchStream` over campaigns, ad groups, keyword criteria and their daily
 * metrics, `:mutate` updates of campaigns, budgets, ad groups and keywords, OAuth and
 * `login-customer-id` checks, the per-customer rate limit and the daily operation quota, with
 * Google's error shapes (`GoogleAdsFailure`). Built on the simulator kit.
 *
 * ```ts
 * const sim = await startGoogleAdsSimulator({
 *   seed: "t1",
 *   accounts: [{ customerId: "1234567890", accessToken: "ya29.test", currency: "EUR", campaigns: [
 *     { id: 111, name: "Brand", dailyBudgetMicros: 50_000_000, adGroups: [
 *       { id: 222, name: "Shoes", keywords: [{ criterionId: 333, text: "red shoes" }] }] }] }]
 * })
 * // POST `${sim.url}/v26/customers/1234567890/googleAds:searchStream` …
 * sim.account("1234567890").keyword("222", "333").status // "ENABLED"
 * ```
 */
export { GOOGLE_ADS_API_VERSIONS, GOOGLE_ADS_LATEST_VERSION, startGoogleAdsSimulator } from "./simulator.ts"
export type {
  AdGroupSnapshot,
  CampaignSnapshot,
  GoogleAdsAccountControls,
  GoogleAdsRequest,
  GoogleAdsSimulator,
  GoogleAdsSimulatorOptions,
  KeywordSnapshot,
  ThrottleFault,
  ThrottleMatch
} from "./simulator.ts"
export type { AdGroupInit, CampaignInit, GoogleAdsAccountInit, GoogleAdsStatus, KeywordInit, KeywordMatchType } from "./model.ts"
export type { AccountDay, DayMetrics } from "./metrics.ts"
export { parseGaql, GaqlError } from "./gaql.ts"
export type { GaqlQuery } from "./gaql.ts"
