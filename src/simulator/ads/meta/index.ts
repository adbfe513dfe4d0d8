/**
 * Meta Marketing API simulator: `startMetaAdsSimulator` and its types. See README.md.
 */
export { CALL_POINTS, DEFAULT_API_VERSIONS, startMetaAdsSimulator } from "./simulator.ts"
export type { MetaAdsSimulator, MetaAdsSimulatorOptions, MetaCall, ObjectPatch, RateLimitOptions, ThrottleFault } from "./simulator.ts"
export { MetaAccount, OFFSET_ONE_CURRENCIES, currencyOffset } from "./accounts.ts"
export type { AccountOptions, AdSetOptions, CampaignOptions, MetaObjectSnapshot, MetaStatus } from "./accounts.ts"
export { MetaErrors, throttleError } from "./errors.ts"
export type { GraphError, ThrottleCode } from "./errors.ts"
export { PURCHASE_ACTION_TYPES, formatMoney, seededDelivery } from "./insights.ts"
export type { DailyDelivery } from "./insights.ts"
export { BUC_TYPES } from "./usage.ts"
export type { BucType, BucUsage } from "./usage.ts"
