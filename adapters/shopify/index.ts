/**
 * Shopify Admin API adapter (2026-07): the `ShopifyAdmin` port and its live layer, plus the
 * pure / Stream helpers of the bulk metafield job (`MetafieldJsonl`).
 */
export * from "./ShopifyAdmin.ts"
export * as ShopifyAdminLive from "./ShopifyAdminLive.ts"
export type { ShopifyAdminOptions } from "./ShopifyAdminLive.ts"
export * from "./MetafieldJsonl.ts"
export * as ShopifyDocuments from "./documents.ts"
export { InvalidJsonlLine, isInvalidJsonlLine, jsonlValues, jsonlTextLines, parseJsonlLines, multipartEnvelope } from "./jsonl.ts"
export { apiErrorStatus, classifyAdminResponse, parseRetryAfter, costOf } from "./responses.ts"
export type { AdminResponse, Classified, CostInfo } from "./responses.ts"
export { makeCostThrottle, waitBeforeSending, availablePoints, backoffDelay } from "./throttle.ts"
export type { BucketModel, CostThrottle, ThrottleStatus } from "./throttle.ts"
export { nodeHttpDownload, nodeHttpUpload, UploadLengthMismatch } from "./transport.ts"
export type { DownloadResponse, DownloadTransport, UploadRequest, UploadResponse, UploadTransport } from "./transport.ts"
