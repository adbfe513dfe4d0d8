/**
 * What the compliance operations (`Compliance.ts`) read and delete outside the secrets (port):
 * a customer's events found by their clear `subject`, the sealed customer data exports, the
 * dead letters about a customer, and every side table of a shop. The PostgreSQL
 * implementation lives in `adapters/postgres/PgPrivacyStore.ts`.
 */
import { Context } from "effect"
import type { Effect, Option } from "effect"
import type { SqlError } from "effect/sql/SqlError"

/** A stored event, as written (its data still sealed). */
export interface SubjectEvent {
  readonly position: number
  readonly type: string
  readonly streamId: string
  readonly occurredAt: Date
  readonly data: unknown
}

/** A customer data export, sealed under the customer's key. */
export interface StoredExport {
  readonly exportId: string
  readonly customerId: string
  readonly dataRequestId: string | null
  readonly sealed: unknown
  readonly sha256: string
  readonly bytes: number
  readonly eventCount: number
}

export class PrivacyStore extends Context.Service<PrivacyStore, {
  /** The shop's events whose `subject` is one of `subjects`, in log order. */
  readonly eventsOfSubjects: (shop: string, subjects: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<SubjectEvent>, SqlError>
  /** Stores an export; storing the same export id again replaces it (a retried request). */
  readonly saveExport: (shop: string, stored: StoredExport) => Effect.Effect<void, SqlError>
  /** The sealed document of an export, `None` when there is none. */
  readonly readExport: (shop: string, exportId: string) => Effect.Effect<Option.Option<unknown>, SqlError>
  /**
   * Deletes what is held about a customer beside the events: their exports, and the dead
   * letters about them (their webhooks, the orders the request names, their touchpoints and
   * conversions).
   */
  readonly deleteCustomerData: (
    shop: string,
    customer: { readonly customerId: string; readonly orderIds: ReadonlyArray<string> }
  ) => Effect.Effect<void, SqlError>
  /** Deletes the shop's rows from every side table (outside the event store and the projections), atomically. */
  readonly deleteShopData: (shop: string) => Effect.Effect<void, SqlError>
}>()("sumeru/privacy/PrivacyStore") {}
