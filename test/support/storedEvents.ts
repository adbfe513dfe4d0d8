/**
 * Tests that read the `events` table with SQL see payloads as stored: the shop's business data
 * sealed (see `src/eventstore/EventSealing.ts`). This opens them the way the store does.
 */
import { openRows } from "../../adapters/postgres/PgEventStore.ts"
import { EventSealing } from "../../src/eventstore/EventSealing.ts"

export const openStored = <R extends { readonly shop: string; readonly type: string; readonly data: unknown }>(rows: ReadonlyArray<R>) =>
  EventSealing.use((sealing) => openRows(sealing, rows))
