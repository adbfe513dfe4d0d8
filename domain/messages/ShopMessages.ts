/**
 * Every message a shop actor handles, as one `effect/Schema` union tagged by `type`. A message
 * on the wire (the shop log, a timer row) is `{ type, version?, payload }` inside its envelope
 * (`shop`, `messageId`, …); publishers encode through this catalog and the actor decodes once
 * (`decodeShopMessage`) before any handler sees it, so handlers get typed values.
 *
 * Messages sit in durable logs across deploys: each type has a current schema `version`
 * (absent on the wire means 1), and what an older version or an older type name looked like is
 * turned into the current shape on read (`UPCASTS`) — never the other way round. Frozen v1
 * fixtures of every type (`test/domain/fixtures/messages/`) must keep decoding.
 *
 * Adding a message: its payload schema here, a member of `ShopMessageBody`, its version in
 * `MESSAGE_VERSIONS`, a v1 fixture, and its handler in the registry (`src/actors/AppHandlers.ts`,
 * which fails to type-check until every type has one).
 */
import { AiBudgetThresholdReached, AiCallReports } from "../ai/events.ts"
import { CartAbandonCheck } from "../intelligence/cartAbandonment.ts"
import { Result, Schema, SchemaIssue } from "effect"
import { RequestedRun, StepOutcome } from "../automation/ExecutionRuns.ts"
import { WhatsAppInboundMessage, WhatsAppStatusUpdate } from "../channels/whatsapp.ts"
import { RuleCommandWire } from "../automation/Rules.ts"
import { TriggerEvent } from "../automation/Triggers.ts"
import { ExternalEvent } from "../ingest/ExternalEvents.ts"
import { ShopInstalled } from "../shop/ShopLifecycle.ts"
import { Touchpoint } from "../ingest/Touchpoint.ts"
import { JobFailureCode, JobParameters, RetryReason, UndoOf } from "../jobs/index.ts"

// --- Shopify ------------------------------------------------------------------------------

/** A Shopify webhook delivery as the ingress accepted it (headers + the parsed body). */
export const WebhookDelivery = Schema.Struct({
  topic: Schema.String,
  event_id: Schema.optional(Schema.NullOr(Schema.String)),
  webhook_id: Schema.optional(Schema.NullOr(Schema.String)),
  api_version: Schema.optional(Schema.NullOr(Schema.String)),
  triggered_at: Schema.optional(Schema.NullOr(Schema.String)),
  received_at: Schema.optional(Schema.NullOr(Schema.String)),
  payload: Schema.Unknown
})
export type WebhookDelivery = typeof WebhookDelivery.Type

/** Shopify's `bulk_operations/finish` body: which operation ended (the job polls it for the rest). */
export const BulkOperationsFinish = Schema.Struct({
  admin_graphql_api_id: Schema.optional(Schema.String),
  status: Schema.optional(Schema.NullOr(Schema.String)),
  error_code: Schema.optional(Schema.NullOr(Schema.String)),
  type: Schema.optional(Schema.NullOr(Schema.String)),
  created_at: Schema.optional(Schema.NullOr(Schema.String)),
  completed_at: Schema.optional(Schema.NullOr(Schema.String))
})
export type BulkOperationsFinish = typeof BulkOperationsFinish.Type

/**
 * An install completed (the token is already stored; the message never carries it): what
 * `shop.installed` records, field for field.
 */
export const AppInstalled = ShopInstalled
export type AppInstalled = typeof AppInstalled.Type

// --- data plane -----------------------------------------------------------------------------

/** One event of the public ingest API, with the API key that sent it. */
export const ExternalEventMessage = Schema.Struct({
  key_id: Schema.String,
  event: ExternalEvent
})
export type ExternalEventMessage = typeof ExternalEventMessage.Type

// --- Flowmend jobs --------------------------------------------------------------------------

/** A validated job request (Flow action, admin, API, CLI, or the undo of a job). */
export const JobRequest = Schema.Struct({
  jobId: Schema.String,
  input: JobParameters,
  inputHash: Schema.String,
  actionRunId: Schema.NullOr(Schema.String),
  source: Schema.Literals(["flow", "api", "admin", "cli", "undo", "automation"]),
  requestedBy: Schema.NullOr(Schema.String),
  at: Schema.String,
  undoOf: Schema.optional(Schema.NullOr(UndoOf))
})
export type JobRequest = typeof JobRequest.Type

/** A request to undo a finished job (`force`: restore even the products changed since). */
export const JobUndo = Schema.Struct({
  jobId: Schema.String,
  undoJobId: Schema.String,
  requestedBy: Schema.NullOr(Schema.String),
  force: Schema.optional(Schema.Boolean)
})
export type JobUndo = typeof JobUndo.Type

/** Which bulk operation of a job a poll is about. */
export const JobTarget = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("query") }),
  Schema.Struct({ kind: Schema.Literal("chunk"), chunkIndex: Schema.Int })
])
export type JobTarget = typeof JobTarget.Type

/** A Shopify bulk operation's status, as a step read it. */
export const OperationStatus = Schema.Struct({
  status: Schema.Literals(["CREATED", "RUNNING", "COMPLETED", "FAILED", "CANCELING", "CANCELED", "EXPIRED"]),
  errorCode: Schema.NullOr(Schema.String),
  url: Schema.NullOr(Schema.String),
  partialDataUrl: Schema.NullOr(Schema.String),
  objectCount: Schema.Number
})
export type OperationStatus = typeof OperationStatus.Type

/** How a step failed: worth a retry, or not (the step errors of `src/jobs/JobSteps.ts`, as data). */
export const StepFailure = Schema.Union([
  Schema.Struct({
    _tag: Schema.Literal("StepTransient"),
    reason: RetryReason,
    message: Schema.String,
    retryAfterMs: Schema.NullOr(Schema.Number)
  }),
  Schema.Struct({
    _tag: Schema.Literal("StepPermanent"),
    code: JobFailureCode,
    message: Schema.String
  })
])
export type StepFailure = typeof StepFailure.Type

const progress = <K extends string, F extends Schema.Struct.Fields>(kind: K, fields: F) =>
  Schema.Struct({ kind: Schema.Literal(kind), jobId: Schema.String, attempt: Schema.Int, ...fields })

/** What a job's side effect reports back to its actor. */
export const JobProgress = Schema.Union([
  progress("query_submitted", { bulkOperationId: Schema.String }),
  progress("status", { bulkOperationId: Schema.String, target: JobTarget, status: OperationStatus }),
  progress("snapshot_stored", {
    matched: Schema.Int,
    truncated: Schema.Boolean,
    snapshotRef: Schema.String,
    bulkOperationId: Schema.NullOr(Schema.String),
    /** Undo jobs: products left as they are (changed since the original job), and their first error lines. */
    changedSince: Schema.optional(Schema.Int),
    errorLines: Schema.optional(Schema.Array(Schema.String))
  }),
  progress("chunk_uploaded", { chunkIndex: Schema.Int, stagedUploadPath: Schema.String, lines: Schema.Int, bytes: Schema.Int }),
  progress("chunk_submitted", { chunkIndex: Schema.Int, bulkOperationId: Schema.String }),
  progress("chunk_read", {
    chunkIndex: Schema.Int,
    bulkOperationId: Schema.String,
    updated: Schema.Int,
    failed: Schema.Int,
    /** Undo jobs: lines Shopify refused because the product changed since (`STALE_OBJECT`). */
    changedSince: Schema.optional(Schema.Int),
    errorLines: Schema.Array(Schema.String)
  }),
  progress("step_failed", { error: StepFailure })
])
export type JobProgress = typeof JobProgress.Type

/** A job's durable timers: poll its bulk operation, retry after backoff, or the watchdog. */
export const JobPoll = Schema.Struct({ jobId: Schema.String, attempt: Schema.Int, bulkOperationId: Schema.String, target: JobTarget })
export type JobPoll = typeof JobPoll.Type
export const JobRetry = Schema.Struct({ jobId: Schema.String, attempt: Schema.Int })
export type JobRetry = typeof JobRetry.Type
export const JobWatchdog = Schema.Struct({ jobId: Schema.String, attempt: Schema.Int, updatedAt: Schema.String })
export type JobWatchdog = typeof JobWatchdog.Type

// --- the decision plane ---------------------------------------------------------------------

/** Who emitted a trigger: a detector, the ingress (a webhook's consequence), or an operator. */
export const TriggerEmitter = Schema.Struct({
  kind: Schema.Literals(["detector", "webhook", "operator"]),
  /** The detector's name, the webhook's delivery id, or the operator (`staff:…`, `key:…`). */
  id: Schema.String
})
export type TriggerEmitter = typeof TriggerEmitter.Type

/** A change to one of the shop's rules, validated by the admin API (`domain/automation/Rules.ts`). */
export const RuleCommandMessage = Schema.Struct({
  /** Names the outcome the requester waits for (`rule.command_rejected` carries it). */
  commandId: Schema.String,
  command: RuleCommandWire,
  requestedBy: Schema.String
})
export type RuleCommandMessage = typeof RuleCommandMessage.Type

/** A trigger event for the shop's rules (`domain/automation/Triggers.ts`). */
export const TriggerEmitted = Schema.Struct({
  triggerId: Schema.String,
  trigger: TriggerEvent,
  emittedAt: Schema.String,
  emittedBy: TriggerEmitter
})
export type TriggerEmitted = typeof TriggerEmitted.Type

/** A quiet-hours deferral's timer: one rule and one resource of a trigger, checked again. */
export const TriggerRecheck = Schema.Struct({
  executionId: Schema.String,
  ruleId: Schema.String,
  emitted: TriggerEmitted
})
export type TriggerRecheck = typeof TriggerRecheck.Type

/** A person's answer to a parked execution. */
export const ApprovalAnswer = Schema.Struct({
  executionId: Schema.String,
  decision: Schema.Literals(["approve", "reject"]),
  by: Schema.String,
  reason: Schema.NullOr(Schema.String)
})
export type ApprovalAnswer = typeof ApprovalAnswer.Type

/** A parked execution's expiry timer. */
export const ApprovalExpiry = Schema.Struct({ executionId: Schema.String })
export type ApprovalExpiry = typeof ApprovalExpiry.Type

/**
 * An action's side effect reporting back (`domain/automation/ExecutionRuns.ts`): what the
 * snapshot, handler or undoHandler of an execution found or did. The snapshot's report carries
 * the run as dispatch recorded it (the execution's stream is empty until then).
 */
export const ActionReport = Schema.Struct({
  executionId: Schema.String,
  requested: Schema.optional(RequestedRun),
  outcome: StepOutcome
})
export type ActionReport = typeof ActionReport.Type

/**
 * Run the step an execution waits for, if it still waits for it: a durable timer, due at once
 * when dispatch requests a run (so the intention is recorded before any side effect), and again
 * later as the watchdog of a step that never reported (its side effect died with a worker).
 */
export const ActionStep = Schema.Struct({
  executionId: Schema.String,
  stage: Schema.Literals(["snapshot", "apply", "undo"]),
  requested: Schema.optional(RequestedRun)
,
  /** Set on the watchdog (a re-drive), not on a run's start. */
  redrive: Schema.optional(Schema.Boolean)
})
export type ActionStep = typeof ActionStep.Type

/** A person asks to undo an applied execution (`force` overwrites a later change). */
export const UndoRequest = Schema.Struct({
  executionId: Schema.String,
  commandId: Schema.String,
  by: Schema.String,
  force: Schema.Boolean
})
export type UndoRequest = typeof UndoRequest.Type

/** An operator sets the shop's plan (`sumeru shops plan`), as a subscription change would. */
export const PlanSet = Schema.Struct({
  commandId: Schema.String,
  plan: Schema.Literals(["free", "pro", "enterprise"]),
  by: Schema.String
})
export type PlanSet = typeof PlanSet.Type

/**
 * A change to the shop's detector settings (`domain/intelligence/detectorSettings.ts`), checked
 * by the admin API; the actor checks it again against the settings it applies it to.
 */
export const DetectorSettingsSet = Schema.Struct({
  commandId: Schema.String,
  patch: Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.NullOr(Schema.Finite))),
  by: Schema.String
})
export type DetectorSettingsSet = typeof DetectorSettingsSet.Type

// --- outbound webhooks (`domain/outbound/Webhooks.ts`) -------------------------------------

const SealedSecretMessage = Schema.Struct({ sealed: Schema.Literal(1), subject: Schema.String, data: Schema.String })

/** A change to the shop's outbound webhook subscriptions, validated by the admin API (the secret sealed). */
export const OutboundSubscriptionCommand = Schema.Struct({
  commandId: Schema.String,
  by: Schema.String,
  command: Schema.Union([
    Schema.Struct({
      type: Schema.Literal("create"),
      subscriptionId: Schema.String,
      url: Schema.String,
      events: Schema.Array(Schema.Literals(["autoaction.applied", "autoaction.undone", "autoaction.failed", "ai.budget_threshold_reached"])),
      secret: SealedSecretMessage
    }),
    Schema.Struct({ type: Schema.Literal("rotate"), subscriptionId: Schema.String, secret: SealedSecretMessage, graceMs: Schema.Int }),
    Schema.Struct({ type: Schema.Literal("delete"), subscriptionId: Schema.String })
  ])
})
export type OutboundSubscriptionCommand = typeof OutboundSubscriptionCommand.Type

/** Make attempt `attempt` of a delivery if it is still due (a retry's timer, or the watchdog of a lost attempt). */
export const OutboundAttempt = Schema.Struct({ deliveryId: Schema.String, attempt: Schema.Int })
export type OutboundAttempt = typeof OutboundAttempt.Type

/** What an attempt found. */
export const OutboundAttemptReport = Schema.Struct({
  deliveryId: Schema.String,
  attempt: Schema.Int,
  outcome: Schema.Union([
    Schema.Struct({ ok: Schema.Literal(true), status: Schema.Int }),
    Schema.Struct({ ok: Schema.Literal(false), status: Schema.NullOr(Schema.Int), error: Schema.String })
  ])
})
export type OutboundAttemptReport = typeof OutboundAttemptReport.Type

/** A person sends a dead-lettered delivery again. */
export const OutboundRedrive = Schema.Struct({ deliveryId: Schema.String, by: Schema.String })
export type OutboundRedrive = typeof OutboundRedrive.Type

/** Connecting or disconnecting an ad account (`domain/ads/AdAccounts.ts`); the credentials sealed. */
export const AdAccountCommandMessage = Schema.Struct({
  commandId: Schema.String,
  by: Schema.String,
  command: Schema.Union([
    Schema.Struct({
      type: Schema.Literal("connect"),
      platform: Schema.Literals(["google", "meta", "tiktok"]),
      accountId: Schema.String,
      credentials: Schema.Struct({ sealed: Schema.Literal(1), subject: Schema.String, data: Schema.String })
    }),
    Schema.Struct({ type: Schema.Literal("disconnect"), platform: Schema.Literals(["google", "meta", "tiktok"]), accountId: Schema.String })
  ])
})
export type AdAccountCommandMessage = typeof AdAccountCommandMessage.Type

/** Pull a day's insights of a connected ad account (its daily timer, or an operator). */
export const AdsInsightsPull = Schema.Struct({
  platform: Schema.Literals(["google", "meta", "tiktok"]),
  accountId: Schema.String,
  /** `YYYY-MM-DD`; yesterday (UTC) when absent. */
  date: Schema.optional(Schema.String)
})
export type AdsInsightsPull = typeof AdsInsightsPull.Type

/** What a pull found: the day's campaign rows (amounts in micros), or why there are none. */
export const AdsInsightsReport = Schema.Struct({
  platform: Schema.Literals(["google", "meta", "tiktok"]),
  accountId: Schema.String,
  date: Schema.String,
  outcome: Schema.Union([
    Schema.Struct({
      ok: Schema.Literal(true),
      campaigns: Schema.Array(Schema.Struct({
        campaignId: Schema.String,
        campaignName: Schema.String,
        currency: Schema.String,
        spendMicros: Schema.Number,
        impressions: Schema.Number,
        clicks: Schema.Number,
        conversions: Schema.Number,
        conversionValueMicros: Schema.Number
      })),
      /** The day's keyword rows (Google), for the keyword detectors; absent in reports of older pulls. */
      keywords: Schema.optional(Schema.Array(Schema.Struct({
        campaignId: Schema.String,
        adGroupId: Schema.NullOr(Schema.String),
        keywordId: Schema.String,
        keywordText: Schema.NullOr(Schema.String),
        currency: Schema.String,
        spendMicros: Schema.Number,
        impressions: Schema.Number,
        clicks: Schema.Number,
        conversions: Schema.Number,
        conversionValueMicros: Schema.Number
      })))
    }),
    Schema.Struct({ ok: Schema.Literal(false), code: Schema.String, message: Schema.String })
  ])
})
export type AdsInsightsReport = typeof AdsInsightsReport.Type

/** The daily Search Console pull of a property (a durable timer per shop and property). */
export const SearchPull = Schema.Struct({ siteUrl: Schema.String })
export type SearchPull = typeof SearchPull.Type

/** What a pull measured: each page's clicks over the last 14 days against the 14 before (`domain/intelligence/seoDaily.ts`). */
export const SearchReport = Schema.Struct({
  siteUrl: Schema.String,
  /** The last day with final data. */
  asOf: Schema.String,
  pages: Schema.Array(Schema.Struct({
    url: Schema.String,
    nowClicks: Schema.Number,
    priorClicks: Schema.Number,
    dropPct: Schema.NullOr(Schema.Number),
    impressions: Schema.Number,
    position: Schema.NullOr(Schema.Number),
    decayed: Schema.Boolean
  }))
})
export type SearchReport = typeof SearchReport.Type

const SnippetChangeSchema = Schema.Struct({ url: Schema.String, query: Schema.String, position: Schema.Number })

const SeoFindingsSchema = Schema.Struct({
  decay: Schema.Array(Schema.Struct({ page: Schema.String, dropPct: Schema.Number, priorClicks: Schema.Number, nowClicks: Schema.Number })),
  opportunities: Schema.Array(Schema.Struct({ url: Schema.String, query: Schema.String, impressions: Schema.Number, clicks: Schema.Number, position: Schema.Number, ctr: Schema.Number })),
  cannibalism: Schema.Array(Schema.Struct({ query: Schema.String, strongerUrl: Schema.String, weakerUrl: Schema.String, strongerClicks: Schema.Number, weakerClicks: Schema.Number })),
  snippetLost: Schema.Array(SnippetChangeSchema),
  snippetGained: Schema.Array(SnippetChangeSchema),
  keywordGaps: Schema.Array(Schema.Struct({ query: Schema.String, impressions: Schema.Number, position: Schema.NullOr(Schema.Number) }))
})

/** What a pull found: the findings on `asOf`, and those that were not found the day before (at most 50 of each). */
export const SearchFindingsReport = Schema.Struct({
  siteUrl: Schema.String,
  asOf: Schema.String,
  today: SeoFindingsSchema,
  started: SeoFindingsSchema
})
export type SearchFindingsReport = typeof SearchFindingsReport.Type

/** The daily Merchant Center pull of an account (a durable timer per shop and account). */
export const MerchantPull = Schema.Struct({ accountId: Schema.String })
export type MerchantPull = typeof MerchantPull.Type

/** What a pull found changed since what the shop knew (`domain/intelligence/merchantStatus.ts`). */
export const MerchantReport = Schema.Struct({
  accountId: Schema.String,
  /** Names this report (the pull's day and message): the triggers' ids derive from it. */
  reportId: Schema.String,
  changes: Schema.Array(Schema.Struct({
    offerId: Schema.String,
    productId: Schema.String,
    title: Schema.NullOr(Schema.String),
    destination: Schema.String,
    status: Schema.Literals(["approved", "disapproved"]),
    issues: Schema.Array(Schema.Struct({ code: Schema.String, description: Schema.String, severity: Schema.String }))
  }))
})
export type MerchantReport = typeof MerchantReport.Type

/** The daily site audit of a shop's storefront (a durable timer per shop and origin). */
export const SiteAuditRun = Schema.Struct({ origin: Schema.String })
export type SiteAuditRun = typeof SiteAuditRun.Type

/** What an audit found (`domain/intelligence/siteAudit.ts`): the score of each page crawled, the broken links. */
export const SiteAuditReport = Schema.Struct({
  origin: Schema.String,
  auditId: Schema.String,
  score: Schema.Number,
  pagesCrawled: Schema.Number,
  pages: Schema.Array(Schema.Struct({ url: Schema.String, score: Schema.Number, issues: Schema.Array(Schema.String) })),
  brokenLinks: Schema.Array(Schema.Struct({ path: Schema.String, status: Schema.Number, linkedFrom: Schema.Array(Schema.String) }))
})
export type SiteAuditReport = typeof SiteAuditReport.Type

/** A person cancels an execution deferred by quiet hours (`sumeru executions undo`, `POST /app/executions/:id/undo`). */
export const CancelDeferred = Schema.Struct({ executionId: Schema.String, by: Schema.String })
export type CancelDeferred = typeof CancelDeferred.Type

// --- the catalog ----------------------------------------------------------------------------

const message = <T extends string, P extends Schema.Top>(type: T, payload: P) =>
  Schema.Struct({ type: Schema.Literal(type), payload })

/** Every shop message: `type` + typed `payload`. */
export const ShopMessageBody = Schema.Union([
  message("shopify.webhook", WebhookDelivery),
  message("shopify.bulk_operations_finish", BulkOperationsFinish),
  message("shopify.app_installed", AppInstalled),
  message("ingest.external_event", ExternalEventMessage),
  message("pixel.touchpoint", Touchpoint),
  message("job.request", JobRequest),
  message("job.undo", JobUndo),
  message("job.progress", JobProgress),
  message("job.poll", JobPoll),
  message("job.retry", JobRetry),
  message("job.watchdog", JobWatchdog),
  message("automation.trigger", TriggerEmitted),
  message("automation.rule_command", RuleCommandMessage),
  message("automation.recheck", TriggerRecheck),
  message("automation.approval", ApprovalAnswer),
  message("automation.approval_expiry", ApprovalExpiry),
  message("automation.action_report", ActionReport),
  message("automation.action_step", ActionStep),
  message("automation.undo", UndoRequest),
  message("shop.set_plan", PlanSet),
  message("outbound.subscription_command", OutboundSubscriptionCommand),
  message("outbound.attempt", OutboundAttempt),
  message("outbound.attempt_report", OutboundAttemptReport),
  message("outbound.redrive", OutboundRedrive),
  message("ads.account_command", AdAccountCommandMessage),
  message("whatsapp.message", WhatsAppInboundMessage),
  message("whatsapp.status", WhatsAppStatusUpdate),
  message("ads.insights_pull", AdsInsightsPull),
  message("ads.insights_report", AdsInsightsReport),
  message("automation.cancel", CancelDeferred),
  message("checkout.abandon_check", CartAbandonCheck),
  message("seo.search_pull", SearchPull),
  message("seo.search_report", SearchReport),
  message("seo.search_findings", SearchFindingsReport),
  message("mc.status_pull", MerchantPull),
  message("mc.status_report", MerchantReport),
  message("seo.audit_run", SiteAuditRun),
  message("seo.audit_report", SiteAuditReport),
  message("detectors.set_settings", DetectorSettingsSet),
  message("ai.call_reports", AiCallReports),
  message("ai.budget_alert", AiBudgetThresholdReached)
])
export type ShopMessageBody = typeof ShopMessageBody.Type
export type ShopMessageType = ShopMessageBody["type"]
/** The body of messages of type `T`. */
export type BodyOf<T extends ShopMessageType> = Extract<ShopMessageBody, { readonly type: T }>
/** The wire (JSON) form of a body: what publishers hand the log. */
export type EncodedBody = typeof ShopMessageBody.Encoded

/** The current schema version of each message type (bump it with an upcast below). */
export const MESSAGE_VERSIONS: { readonly [T in ShopMessageType]: number } = {
  "shopify.webhook": 1,
  "shopify.bulk_operations_finish": 1,
  "shopify.app_installed": 1,
  "ingest.external_event": 1,
  "pixel.touchpoint": 1,
  "job.request": 1,
  "job.undo": 1,
  "job.progress": 1,
  "job.poll": 1,
  "job.retry": 1,
  "job.watchdog": 1,
  "automation.trigger": 1,
  "automation.rule_command": 1,
  "automation.recheck": 1,
  "automation.approval": 1,
  "automation.approval_expiry": 1,
  "automation.action_report": 1,
  "automation.action_step": 1,
  "automation.undo": 1,
  "shop.set_plan": 1,
  "outbound.subscription_command": 1,
  "outbound.attempt": 1,
  "outbound.attempt_report": 1,
  "outbound.redrive": 1,
  "ads.account_command": 1,
  "whatsapp.message": 1,
  "whatsapp.status": 1,
  "ads.insights_pull": 1,
  "ads.insights_report": 1,
  "automation.cancel": 1,
  "checkout.abandon_check": 1,
  "seo.search_pull": 1,
  "seo.search_report": 1,
  "seo.search_findings": 1,
  "mc.status_pull": 1,
  "mc.status_report": 1,
  "seo.audit_run": 1,
  "seo.audit_report": 1,
  "detectors.set_settings": 1,
  "ai.call_reports": 1,
  "ai.budget_alert": 1
}

export const SHOP_MESSAGE_TYPES = Object.keys(MESSAGE_VERSIONS) as ReadonlyArray<ShopMessageType>

/** A message as read from the wire, before decoding. */
export interface WireBody {
  readonly type: string
  readonly version?: number | undefined
  readonly payload: unknown
}

/**
 * Older shapes, turned into the current one on read: by older type name, and per type from
 * each version to the next. Pure functions of the stored JSON.
 */
const UPCASTS: {
  readonly renamed: Readonly<Record<string, (payload: unknown) => { readonly type: ShopMessageType; readonly payload: unknown }>>
  readonly versions: { readonly [T in ShopMessageType]?: Readonly<Record<number, (payload: unknown) => unknown>> }
} = {
  renamed: {
    // The first ingress published raw deliveries as `shopify.webhook_received`, with the
    // trigger time as `triggeredAt` when it was read from the body rather than the header.
    "shopify.webhook_received": (payload) => {
      if (typeof payload !== "object" || payload === null) return { type: "shopify.webhook", payload }
      const { triggeredAt, ...rest } = payload as Record<string, unknown>
      return { type: "shopify.webhook", payload: { ...rest, triggered_at: rest["triggered_at"] ?? triggeredAt ?? null } }
    }
  },
  versions: {}
}

/** Why a message does not decode (dead-lettered at once, with this text). */
export interface UndecodableMessage {
  readonly type: string
  readonly reason: string
}

const decodeBody = Schema.decodeUnknownResult(ShopMessageBody)
const isKnown = (type: string): type is ShopMessageType => Object.hasOwn(MESSAGE_VERSIONS, type)

/**
 * The typed body of a wire message: older names and versions upcast first; an unknown type, a
 * version from the future or a payload that does not fit is an `UndecodableMessage`.
 */
export const decodeShopMessage = (wire: WireBody): Result.Result<ShopMessageBody, UndecodableMessage> => {
  const renamed = UPCASTS.renamed[wire.type]
  const { type, payload: renamedPayload } = renamed !== undefined ? renamed(wire.payload) : { type: wire.type, payload: wire.payload }
  if (!isKnown(type)) return Result.fail({ type: wire.type, reason: `unknown message type ${JSON.stringify(wire.type)}` })
  const current = MESSAGE_VERSIONS[type]
  let version = wire.version ?? 1
  if (!Number.isInteger(version) || version < 1 || version > current) {
    return Result.fail({ type, reason: `${type} version ${String(wire.version)} is not one this deploy reads (1–${current})` })
  }
  let payload = renamedPayload
  for (; version < current; version++) {
    const step = UPCASTS.versions[type]?.[version]
    if (step === undefined) return Result.fail({ type, reason: `no upcast for ${type} from version ${version}` })
    payload = step(payload)
  }
  const decoded = decodeBody({ type, payload })
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success)
    : Result.fail({ type, reason: `${type} payload does not fit its schema: ${SchemaIssue.makeFormatterDefault()(decoded.failure.issue)}` })
}

const encodeBody = Schema.encodeSync(ShopMessageBody)

/** The wire form of a body (what the log stores), stamped with its type's current version. */
export const encodeShopMessage = (body: ShopMessageBody): WireBody & { readonly version: number } => {
  const encoded = encodeBody(body)
  return { type: encoded.type, version: MESSAGE_VERSIONS[body.type], payload: encoded.payload }
}
