/** The admin API's answers, as the screens read them (see `adapters/http/AdminRouteCatalog.ts`). */
export interface Me {
  readonly shop: string
  readonly plan: string
  readonly time_zone: string
  readonly principal: { readonly kind: string; readonly subject: string; readonly role: string }
  readonly permissions: ReadonlyArray<string>
}

export interface PageOf {
  readonly total: number
  readonly page: number
  readonly pages: number
}

export interface Job {
  readonly id: string
  readonly status: string
  readonly query_string?: string
  readonly query?: string
  readonly namespace?: string
  readonly key?: string
  readonly metafield?: string
  readonly type: string
  readonly value?: string
  readonly dry_run: boolean
  readonly max_items?: number
  readonly matched_count: number | null
  readonly updated_count: number | null
  readonly failed_count: number | null
  readonly error_preview?: string | null
  readonly undo_of?: string | null
  readonly undone_by?: string | null
  readonly created_at: string
  readonly updated_at?: string
}

export interface JobEvent {
  readonly event_type: string
  readonly message: string
  readonly created_at: string
}

export interface UndoPreview {
  readonly products: number
  readonly restored: number
  readonly removed: number
  readonly sample: ReadonlyArray<{ readonly product_id: string; readonly previous_value: string | null }>
}

export interface ParamSpec {
  readonly key: string
  readonly type: "string" | "number" | "boolean" | "string_list"
  readonly description: string
  readonly default?: unknown
  readonly optional?: boolean
  readonly oneOf?: ReadonlyArray<string>
  readonly min?: number
  readonly max?: number
  readonly maxLength?: number
  readonly minItems?: number
  readonly maxItems?: number
}

export interface ActionMeta {
  readonly key: string
  readonly description: string
  readonly trigger_events: ReadonlyArray<string>
  readonly resource_types: ReadonlyArray<string>
  readonly required_plan: string
  readonly param_schema: ReadonlyArray<ParamSpec>
}

export interface TriggerMeta {
  readonly event: string
  readonly domain: string
  readonly description: string
}

export interface QuietHours {
  readonly start: string
  readonly end: string
}

export interface Rule {
  readonly id: string
  readonly version: number
  readonly name: string
  readonly trigger_event: string
  readonly action_key: string
  readonly params: Record<string, unknown>
  readonly condition: string | null
  readonly cooldown_seconds: number
  readonly quiet_hours: QuietHours | null
  readonly requires_approval: boolean
  readonly enabled: boolean
}

export interface Backtest {
  readonly rule_id: string
  readonly fires: ReadonlyArray<{ readonly resource_id: string; readonly resource_type: string; readonly at: string; readonly trigger_id: string; readonly kind: string }>
  readonly skipped: Readonly<Record<string, number>>
  readonly events_scanned: number
}

export interface Execution {
  readonly id: string
  readonly status: string
  readonly rule_id: string
  readonly rule_version: number
  readonly trigger_id: string
  readonly trigger_event: string
  readonly action_key: string
  readonly resource_type: string
  readonly resource_id: string
  readonly reason: string | null
  readonly detail: string | null
  readonly until: string | null
  readonly params: Record<string, unknown> | null
  readonly before: unknown
  readonly after: unknown
  readonly created_at: string
  readonly updated_at: string
}

export interface WhyLink {
  readonly kind: "origin" | "data_event" | "trigger" | "rule" | "execution"
  readonly id: string
  readonly type: string
  readonly at: string
  readonly actor: string
  readonly summary: string
}

export interface AuditEntry {
  readonly position: number
  readonly at: string
  readonly event_type: string
  readonly actor: string
  readonly summary: string
}

export interface Recommendation {
  readonly id: string
  readonly rule: { readonly name: string; readonly trigger_event: string; readonly action_key: string; readonly params: Record<string, unknown>; readonly needs: ReadonlyArray<string> }
  readonly impact: { readonly tier: number; readonly value: number; readonly unit: string }
  readonly explanation: string
  readonly evidence: {
    readonly triggers: number
    readonly resources: number
    readonly firstSeen: string | null
    readonly lastSeen: string | null
    readonly examples: ReadonlyArray<{ readonly resourceId: string; readonly figure: number }>
  }
  readonly backtest: { readonly from: string; readonly to: string; readonly fires: number; readonly resources: number; readonly skipped: Readonly<Record<string, number>> }
}

export type ChannelCredits = Readonly<Record<string, { readonly conversions: number; readonly revenue: number }>>

export interface AttributionReport {
  readonly from: string
  readonly to: string
  readonly conversions: number
  readonly revenue: number
  readonly currency: string | null
  readonly models: Readonly<Record<string, ChannelCredits>>
  readonly daily: ReadonlyArray<{ readonly day: string; readonly model: string; readonly channel: string; readonly conversions: number; readonly revenue: number }>
}

export interface Subscription {
  readonly id: string
  readonly url: string
  readonly events: ReadonlyArray<string>
  readonly status: string
  readonly failing_since: string | null
  readonly created_at: string
}

export interface Delivery {
  readonly id: string
  readonly subscription_id: string
  readonly event: string
  readonly event_id: string
  readonly status: string
  readonly attempts: number
  readonly last_status: number | null
  readonly last_error: string | null
  readonly next_attempt_at: string | null
  readonly created_at: string
  readonly updated_at: string
}
