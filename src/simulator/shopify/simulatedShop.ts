/**
 * A simulated shop as the Admin API implementation sees it (GraphQL execution, the
 * resolvers, the bulk-operation registry), and the simulator-wide services a shop relies
 * on. `ShopState` (`shop.ts`) implements `SimulatedShop` and `BulkOperations`
 * (`bulk/operations.ts`) implements `ShopBulkOperations`: the code that serves a shop
 * depends on these interfaces, not on the classes that hold the shop together.
 */
import type { GraphQLSchema } from "graphql"
import type { DeterministicIds } from "../kit/DeterministicIds.ts"
import type { BulkOperationRecord, BulkOperationStatus, BulkOperationType, BulkPace } from "./bulk/types.ts"
import type { Catalog } from "./catalog.ts"
import type { Clock } from "./clock.ts"
import type { CostBucket } from "./cost.ts"
import type { ShopFaults } from "./faults.ts"
import type { StagedUploads } from "./stagedUploads.ts"
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
 * A simulated shop as GraphQL execution, the resolvers and the bulk-operation registry use
 * it: its data and services, without the test controls. `ShopState` implements it.
 */
export interface SimulatedShop {
  /** Numeric shop id (used in staged upload keys, `gid://shopify/Shop/<n>`). */
  readonly number: number
  readonly currency: string
  readonly catalog: Catalog
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
