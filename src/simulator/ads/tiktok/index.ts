/**
 * A protocol-faithful local simulator of the TikTok Marketing API v1.3 (reports, campaigns,
 * ad groups, status / budget / bid updates, code-40100 throttling, token expiry), built on
 * the simulator kit. See README.md.
 *
 * ```ts
 * const sim = await startTikTokAdsSimulator({
 *   seed: "t1",
 *   advertisers: [{ advertiserId: "7001", accessToken: "tt-token", currency: "USD",
 *     campaigns: [{ campaignId: "1801", adGroups: [{ adgroupId: "1701" }] }] }]
 * })
 * // client under test: baseUrl = sim.url
 * ```
 */
export { startTikTokAdsSimulator, DEFAULT_RATE_LIMIT, TIKTOK_API_PREFIX, TikTokCode } from "./simulator.ts"
export type { AdGroupPatch, CampaignPatch, TikTokAdsSimulator, TikTokAdsSimulatorOptions, TikTokFaultMatch, TikTokRequest } from "./simulator.ts"
export { AdvertiserState, currencyPrecision, minimumDailyBudget } from "./model.ts"
export type {
  AdGroupInit,
  AdGroupRecord,
  AdvertiserInit,
  BidType,
  BudgetMode,
  CampaignInit,
  CampaignRecord,
  DayStatsInit,
  OperationStatus,
  RateLimit
} from "./model.ts"
