/**
 * A protocol-faithful local simulator of Shopify's Admin GraphQL API (2026-07) for the
 * parts a bulk-metafield job system and the automation actions use: products search,
 * metafieldsSet/Delete, tagsAdd/tagsRemove and productUpdate (incl. SEO) on products, online
 * store pages (pageUpdate, page SEO metafields), URL redirects, publications
 * (publishablePublish/Unpublish), bulk query/mutation operations with staged uploads and
 * JSONL results, cost throttling, signed `bulk_operations/finish` webhooks, OAuth
 * (authorization code grant and token exchange), and fault injection.
 *
 * ```ts
 * const sim = await startShopifySimulator({
 *   appSecret: "secret",
 *   shops: [{ domain: "acme.myshopify.com", accessToken: "shpat_test", products: 1000 }]
 * })
 * const client = createAdminApiClient(sim.adminClientOptions())
 * ```
 */
export { startShopifySimulator, createShopifySimulator } from "./simulator.ts"
export type { ShopifySimulator, RunningShopifySimulator, ShopifySimulatorOptions, StartOptions, SimulatorFetch } from "./simulator.ts"
export { ShopState } from "./shop.ts"
export type { ShopOptions, RequestLogEntry, PageSnapshot, UrlRedirectSnapshot } from "./shop.ts"
export type { MutationCall } from "./simulatedShop.ts"
export { ShopFaults } from "./faults.ts"
export type { BulkFailureFault, HttpErrorFault, InjectedUserError, RequestMatch } from "./faults.ts"
export { DEFAULT_PAGES } from "./pages.ts"
export type { PageInit, PageRecord } from "./pages.ts"
export { DEFAULT_PUBLICATION_NAMES } from "./publications.ts"
export type { PublicationRecord } from "./publications.ts"
export type { ProductSeo } from "./products.ts"
export type { UrlRedirectRecord } from "./urlRedirects.ts"
export type { BulkOperationRecord, BulkOperationStatus, BulkOperationType, BulkPace } from "./bulk/types.ts"
export type { MetafieldRecord, ProductInit, ProductRecord, ProductStatus, MetafieldInit } from "./catalog.ts"
export { manualClock, systemClock } from "./clock.ts"
export type { Clock, ManualClock } from "./clock.ts"
export { PLAN_LIMITS, MAX_SINGLE_QUERY_COST } from "./cost.ts"
export type { CostLimits, ShopPlan, ThrottleStatus } from "./cost.ts"
export { loadAdminSchema, validateAdminDocument, defaultAdminSchemaPath, ADMIN_API_VERSION } from "./schema.ts"
export type { ShopifyGraphQLError } from "./graphqlErrors.ts"
export { webhookSignature } from "./webhooks.ts"
export { signAdminQuery, adminQueryMessage, DEFAULT_APP_SCOPES } from "./oauth.ts"
export type { WebhookDelivery } from "./webhooks.ts"
export { validateMetafieldValue, isKnownMetafieldType } from "./metafields.ts"
export { parseSearch } from "./search.ts"
export { MAX_STAGED_UPLOAD_BYTES } from "./stagedUploads.ts"
