/** Every projection the application runs. Add new ones here. */
import type { Projection } from "../src/projections/Projection.ts"
import { aiUsageProjection } from "./aiUsage.ts"
import { attributionProjection } from "./attribution.ts"
import { auditLogProjection } from "./auditLog.ts"
import { commerceProjection } from "./commerce.ts"
import { executionsProjection } from "./executions.ts"
import { jobsProjection } from "./jobs.ts"
import { jobTimelineProjection } from "./jobTimeline.ts"
import { seoPagesProjection } from "./seoPages.ts"
import { shopsProjection } from "./shops.ts"
import { streamsProjection } from "./streams.ts"
import { webhookDeliveriesProjection } from "./webhookDeliveries.ts"

export const allProjections: ReadonlyArray<Projection> = [
  streamsProjection,
  auditLogProjection,
  jobsProjection,
  jobTimelineProjection,
  commerceProjection,
  shopsProjection,
  executionsProjection,
  webhookDeliveriesProjection,
  attributionProjection,
  seoPagesProjection,
  aiUsageProjection
]
