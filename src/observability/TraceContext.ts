/**
 * Trace context across the durable hops: a webhook's trace continues through the shop log
 * (the message carries `traceparent`), the actor's commit (the events' metadata carry it) and
 * the projections — one connected trace from the route to the read model, whichever processes
 * the hops run in. W3C `traceparent` text (`00-<trace>-<span>-<flags>`), as on HTTP.
 */
import { Effect, Option, type Tracer } from "effect"
import { Headers, HttpTraceContext } from "effect/http"

/** The current span as a `traceparent`, or undefined outside any span. */
export const currentTraceparent: Effect.Effect<string | undefined> = Effect.map(
  Effect.option(Effect.currentSpan),
  (span) => (Option.isSome(span) ? HttpTraceContext.toHeaders(span.value)["traceparent"] : undefined)
)

/** The span a `traceparent` names, to continue its trace (None when absent or malformed). */
export const spanOfTraceparent = (traceparent: string | null | undefined): Option.Option<Tracer.ExternalSpan> =>
  typeof traceparent === "string" && traceparent !== "" ? HttpTraceContext.w3c(Headers.fromInput({ traceparent })) : Option.none()

/**
 * Trace options for spans on hot paths (every message, request and cold load): no call-site
 * stack. Capturing one builds an Error per span, 2–3 % of a worker's CPU in bench:pipeline's
 * profile; the span's name already says where it is.
 */
export const noStack = { captureStackTrace: false } as const
