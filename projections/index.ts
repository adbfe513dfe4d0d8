/** Every projection the application runs. Add new ones here. */
import type { Projection } from "../src/projections/Projection.ts"
import { auditLogProjection } from "./auditLog.ts"
import { streamsProjection } from "./streams.ts"

export const allProjections: ReadonlyArray<Projection> = [streamsProjection, auditLogProjection]
