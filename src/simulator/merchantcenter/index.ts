/**
 * The Google Merchant API Products simulator (see `simulator.ts`): `accounts.products.list`
 * (`products_v1`) with Google's auth, access, paging and error shapes, over processed products a
 * test gives (or `demoMerchantProducts` generates).
 */
export {
  DEMO_DEMOTED,
  DEMO_IMAGE_TOO_SMALL,
  DEMO_MISSING_GTIN,
  DEMO_PENDING,
  demoMerchantProducts,
  merchantApiError,
  startMerchantCenterSimulator
} from "./simulator.ts"
export type {
  DemoMerchantProductsOptions,
  MerchantCenterAccount,
  MerchantCenterSimulatorOptions,
  RunningMerchantCenterSimulator,
  SimDestinationStatus,
  SimItemLevelIssue,
  SimProduct
} from "./simulator.ts"
