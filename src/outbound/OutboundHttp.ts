/**
 * Posting an outbound webhook (issue 12 §1): the contract the shop's actor uses after its
 * commits. The implementation (`adapters/outbound/FetchOutbound.ts`) checks the target again at
 * every delivery — the URL, and each address its host resolves to now (DNS can change after the
 * subscription was accepted) — follows no redirects, and bounds each attempt by a timeout.
 */
import { Context, type Effect, Schema } from "effect"

/** The target may not be reached (internal address, or an address it now resolves to is). */
export class OutboundRefused extends Schema.TaggedError<OutboundRefused>()("OutboundRefused", { reason: Schema.String }) {}

export interface OutboundAnswer {
  readonly status: number
  /** The start of the receiver's answer, for the delivery's error line. */
  readonly excerpt: string
}

export class OutboundHttp extends Context.Service<OutboundHttp, {
  /** POSTs `body`; any HTTP answer (2xx or not) succeeds; no answer (DNS, connection, timeout) fails with why. */
  readonly post: (
    url: string,
    headers: Readonly<Record<string, string>>,
    body: string
  ) => Effect.Effect<OutboundAnswer, OutboundRefused | { readonly _tag: "OutboundUnreachable"; readonly reason: string }>
  /** Whether a subscription may point at `url` (before any DNS): the reason when it may not. */
  readonly checkUrl: (url: string) => string | undefined
}>()("sumeru/outbound/OutboundHttp") {}
