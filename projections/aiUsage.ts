/**
 * `ai_usage`: the AI gateway's usage log (issue 14 §2) — one row per call, whatever its outcome,
 * from the `ai.call_completed` events the shop's actor records (`src/ai/AiUsageHandlers.ts`):
 * purpose, capability, the provider and model that answered, tokens by kind, the reserved and
 * settled cost, latency and the attempts. A call recorded twice (a replayed report) is one row.
 */
import { Effect } from "effect"
import { AiCallCompleted } from "../domain/ai/events.ts"
import type { Projection } from "../src/projections/Projection.ts"
import { decodeData } from "./eventData.ts"

export const aiUsageProjection: Projection = {
  name: "ai_usage",
  version: 1,
  eventTypes: ["ai.call_completed"],
  tables: [{
    name: "ai_usage",
    columns: [
      "shop text NOT NULL",
      "call_id text NOT NULL",
      "started_at timestamptz NOT NULL",
      "month text NOT NULL",
      "purpose text NOT NULL",
      "capability text NOT NULL",
      "outcome text NOT NULL",
      "provider text",
      "model text",
      "input_tokens bigint NOT NULL",
      "cached_input_tokens bigint NOT NULL",
      "cache_write_tokens bigint NOT NULL",
      "output_tokens bigint NOT NULL",
      "estimated_micros bigint NOT NULL",
      "settled_micros bigint NOT NULL",
      "latency_ms double precision NOT NULL",
      "attempts jsonb NOT NULL"
    ],
    primaryKey: ["shop", "call_id"],
    indexes: [["shop", "started_at"]],
    shopColumn: "shop"
  }],
  apply: (events, { sql, table }) =>
    Effect.gen(function*() {
      const rows = yield* Effect.forEach(events, (e) =>
        Effect.map(decodeData(AiCallCompleted, e), (d) => ({
          shop: e.shop, call_id: d.callId, started_at: d.startedAt, month: d.month, purpose: d.purpose, capability: d.capability,
          outcome: d.outcome, provider: d.provider, model: d.model, input_tokens: d.inputTokens, cached_input_tokens: d.cachedInputTokens,
          cache_write_tokens: d.cacheWriteTokens, output_tokens: d.outputTokens, estimated_micros: d.estimatedMicros,
          settled_micros: d.settledMicros, latency_ms: d.latencyMs, attempts: d.attempts
        })))
      if (rows.length === 0) return
      yield* sql`
        INSERT INTO ${sql.unsafe(table("ai_usage"))}
          (shop, call_id, started_at, month, purpose, capability, outcome, provider, model, input_tokens, cached_input_tokens,
           cache_write_tokens, output_tokens, estimated_micros, settled_micros, latency_ms, attempts)
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          AS x(shop text, call_id text, started_at timestamptz, month text, purpose text, capability text, outcome text, provider text,
               model text, input_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint, output_tokens bigint,
               estimated_micros bigint, settled_micros bigint, latency_ms double precision, attempts jsonb)
        ON CONFLICT (shop, call_id) DO NOTHING`
    })
}
