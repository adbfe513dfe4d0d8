/**
 * A simulated shop as the Admin API implementation sees it (GraphQL execution, the
 * resolvers, the bulk-operation registry), and the simulator-wide services a shop relies
 * on. `ShopState` (`shop.ts`) implements `SimulatedShop` and `BulkOperations`
 * (`bulk/operations.ts`) implements `ShopBulkOperations`: the code that serves a shop
 * depends on these interfaces, not on the classes that hold the shop together.
 */
import type { GraphQLSchema } from "graphql"
import type { DeterministicIds } from "../kit/DeterministicIds.ts"
import type { RequestLog } from "../kit/RequestLog.ts"
import type { BulkOperationRecord, BulkOperationStatus, BulkOperationType, BulkPace } from "./bulk/types.ts"
import type { Catalog } from "./catalog.ts"
import type { Clock } from "./clock.ts"
import type { CostBucket } from "./cost.ts"
import type { ShopFaults } from "./faults.ts"
import type { Pages } from "./pages.ts"
import type { Blogs } from "./articles.ts"
import type { Publications } from "./publications.ts"
import type { StagedUploads } from "./stagedUploads.ts"
import type { UrlRedirects } from "./urlRedirects.ts"
import type { WebhookDelivery, WebhookDispatcher } from "./webhooks.ts"

/** Simulator-wide services a shop relies on. */
export interface SimulatorRuntime {
  readonly schema: GraphQLSchema
  readonly clock: Clock
  /** Where ids, tokens and codes come from (seeded by the simulator's `idSeed`). */
  readonly ids: DeterministicIds
  /** Public origin of the simulator (for staged-upload and result URLs). */
  readonly baseUrl: string
  readonly tmpDir: string
  /** Size cap of staged uploads (bytes). */
  readonly maxUploadBytes: number
  readonly signingKey: string
  /** `app--<appId>`: the app-reserved metafield namespace. */
  readonly appNamespace: string
  readonly bulkPace: BulkPace
  readonly bulkMutationOrder: "shuffled" | "in-order"
  readonly webhooks: WebhookDispatcher
  readonly webhookUrl: string | undefined
  nextBulkOperationId(): number
  log(message: string): void
}

/**
 * A shop's bulk operations as the resolvers use them: lookups, submission, cancellation,
 * and the status and URLs served. `BulkOperations` implements it.
 */
export interface ShopBulkOperations {
  /** Every operation, oldest first. */
  list(): ReadonlyArray<BulkOperationRecord>
  get(id: number): BulkOperationRecord | undefined
  /** The most recent operation of `type` (what `currentBulkOperation` returns). */
  current(type: BulkOperationType): BulkOperationRecord | undefined
  /** Status as served: COMPLETED turns EXPIRED 7 days after completion. */
  effectiveStatus(op: BulkOperationRecord): BulkOperationStatus
  /** Signed result URL, or null (not finished, or no results). */
  resultUrl(op: BulkOperationRecord): string | null
  /** Signed partial-data URL of a failed operation, or null. */
  partialDataUrl(op: BulkOperationRecord): string | null
  /** `bulkOperationRunQuery` */
  submitQuery(query: string, groupObjects: boolean, apiVersion: string): unknown
  /** `bulkOperationRunMutation` */
  submitMutation(mutation: string, stagedUploadPath: string, clientIdentifier: string | null, apiVersion: string): unknown
  /** `bulkOperationCancel` */
  cancel(id: string): unknown
}

/**
 * One execution of a root mutation field, as `shop.mutationLog` records it. Unlike the
 * request log (one entry per HTTP request, with the raw `variables`), it holds the field's
 * coerced arguments (inline literals and variables alike), one entry per root field (aliases
 * included) and per bulk mutation line, and only calls that actually ran: requests refused
 * before execution (throttled, HTTP faults, invalid documents) are not in it.
 */
export interface MutationCall {
  /** When the field started executing (simulator clock). */
  readonly at: number
  /** The root field, e.g. `"tagsAdd"`. */
  readonly field: string
  /** The response key when the field was aliased, else the field name. */
  readonly responseKey: string
  /** Arguments after GraphQL coercion, e.g. `{ id: "gid://shopify/Product/1", tags: ["a"] }`. */
  readonly args: Readonly<Record<string, unknown>>
  /** `"request"` (a GraphQL request) or `"bulk"` (a line of a bulk mutation). */
  readonly via: "request" | "bulk"
  /**
   * The payload's `userErrors` (empty: the call succeeded); undefined when the field threw
   * (see `error`) or its payload has no `userErrors`.
   */
  readonly userErrors: ReadonlyArray<{ readonly field?: ReadonlyArray<string> | null; readonly message: string; readonly code?: string | null }> | undefined
  /** Whether the userErrors were injected by `faults.userErrorNext` (nothing ran). */
  readonly injected: boolean
  /** The GraphQL error message when the field threw. */
  readonly error: string | undefined
}

/**
 * A simulated shop as GraphQL execution, the resolvers and the bulk-operation registry use
 * it: its data and services, without the test controls. `ShopState` implements it.
 */
export interface SimulatedShop {
  /** Numeric shop id (used in staged upload keys, `gid://shopify/Shop/<n>`). */
  readonly number: number
  readonly currency: string
  readonly catalog: Catalog
  /** Online store pages and their metafields. */
  readonly pages: Pages
  /** Blogs and their articles. */
  readonly blogs: Blogs
  /** Sales channel publications and where products are published. */
  readonly publications: Publications
  readonly urlRedirects: UrlRedirects
  /** Every root mutation field executed, oldest first. */
  readonly mutationLog: RequestLog<MutationCall>
  readonly bucket: CostBucket
  readonly faults: ShopFaults
  readonly staged: StagedUploads
  readonly bulk: ShopBulkOperations
  readonly runtime: SimulatorRuntime
  /** The `Shop` object served by `shop { … }`. */
  shopObject(): Record<string, unknown>
  /** Sends a webhook for this shop, honouring drop/duplicate faults. */
  sendWebhook(topic: string, apiVersion: string, payload: unknown): ReadonlyArray<WebhookDelivery>
}
