/**
 * A real OTLP/HTTP trace receiver for tests: `POST /v1/traces` with the JSON encoding
 * (`OtlpSerialization.layerJson`), as a collector would accept it. It records every span it
 * is sent — trace id, span id, parent, name, attributes, links — so a test can assert that
 * one request produced one connected trace across processes and the shop log.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly service: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
}

export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:4318` (set `OTEL_EXPORTER_OTLP_ENDPOINT` to it). */
  readonly url: string
  readonly spans: () => ReadonlyArray<ReceivedSpan>
  /** Requests that were not a decodable OTLP/JSON trace export (should stay 0). */
  readonly rejected: () => number
  readonly close: () => Promise<void>
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
type KeyValue = { key: string; value: AnyValue }

const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue
const attributesOf = (kvs: ReadonlyArray<KeyValue> | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]))

export const startOtlpReceiver = async (): Promise<OtlpReceiver> => {
  const spans: Array<ReceivedSpan> = []
  let rejected = 0
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        // logs and metrics exports are accepted and ignored
        res.writeHead(req.method === "POST" ? 200 : 404, { "content-type": "application/json" }).end("{}")
        return
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: Array<{
            resource?: { attributes?: Array<KeyValue> }
            scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: Array<KeyValue>; links?: Array<{ traceId: string; spanId: string }> }> }>
          }>
        }
        for (const rs of body.resourceSpans) {
          const service = attributesOf(rs.resource?.attributes)["service.name"] as string | undefined
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId === undefined || s.parentSpanId === "" ? undefined : s.parentSpanId,
                name: s.name,
                service,
                attributes: attributesOf(s.attributes),
                links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId }))
              })
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      } catch {
        rejected++
        res.writeHead(400, { "content-type": "application/json" }).end("{}")
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    rejected: () => rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
