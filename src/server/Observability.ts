/**
 * What an operator plugs into: structured logs on stdout and, when a collector is configured,
 * traces over OTLP/HTTP.
 *
 * - Logs: one JSON object per line (`LOG_FORMAT=pretty` for humans), Effect's structured
 *   record (`message`, `level`, `timestamp`, `annotations` — shop, correlation, job ids… —
 *   `spans`, `fiberId`, `cause`) plus `traceId` and `spanId` of the span the line was written
 *   in, so a log line leads to its trace and back.
 * - Traces: exported when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set, with
 *   the standard `OTEL_*` settings (`OTEL_SDK_DISABLED`, `OTEL_BSP_SCHEDULE_DELAY`, headers,
 *   compression), through `effect/observability`'s OTLP tracer (JSON encoding). Without an
 *   endpoint nothing is exported and nothing is buffered. The resource names the service
 *   (`sumeru`) and the process's roles (`sumeru.role`).
 */
import { Config, ConfigProvider, Context, Effect, Formatter, Layer, Logger, Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"

/** The current span's ids, for a log line written inside it. */
const traceFields = (context: Context.Context<never>): { traceId?: string; spanId?: string } => {
  const span = Context.getOrUndefined(context, Tracer.ParentSpan)
  return span === undefined ? {} : { traceId: span.traceId, spanId: span.spanId }
}

/** Effect's structured JSON line, with the trace and span ids of where it was logged. */
export const jsonLogger = Logger.withConsoleLog(Logger.make((options) =>
  Formatter.formatJson({ ...Logger.formatStructured.log(options), ...traceFields(options.fiber.context) })
))

/** JSON lines, or `LOG_FORMAT=pretty`. */
export const loggerLayerFromConfig = Layer.unwrap(Effect.map(
  Config.String("LOG_FORMAT").pipe(Config.withDefault("json")),
  (format) => Logger.layer([format === "pretty" ? Logger.consolePretty() : jsonLogger])
))

/**
 * OTLP trace export when configured (see the header); a no-op otherwise. As the OpenTelemetry
 * spec says, `OTEL_TRACES_EXPORTER` defaults to `otlp` (Effect's reader defaults to none):
 * setting the endpoint is enough; `OTEL_TRACES_EXPORTER=none` turns it off.
 */
export const tracingLayerFromConfig = (roles: string) =>
  OtlpTracer.layerFromConfig({
    resource: { serviceName: "sumeru", serviceVersion: "0.1.0", attributes: { "sumeru.role": roles } }
  }).pipe(
    Layer.provide(OtlpSerialization.layerJson),
    Layer.provide(FetchHttpClient.layer),
    Layer.provide(ConfigProvider.layerAdd(ConfigProvider.fromUnknown({ OTEL_TRACES_EXPORTER: "otlp" })))
  )
