/**
 * The one request preamble of every ingress route that takes a body from outside — Shopify's
 * webhooks, the Flow action, the storefront pixel, the public ingest API — so that the routes
 * cannot drift apart again. In this order, each refusal a typed error (`HttpErrors.ts`) that
 * `HttpProblem.ts` answers, and none of which stores anything:
 *
 * 1. **declared size** — a `Content-Length` past the route's limit is refused before anything
 *    else, and before a byte is read (`PayloadTooLarge`, 413, `Connection: close`: the server
 *    drops the upload instead of reading it all);
 * 2. **media type** — the `Content-Type`'s type/subtype, case-insensitive, parameters ignored
 *    (`application/json; charset=utf-8` is `application/json`; the charset is checked on the
 *    bytes instead, step 5). Anything else, or none, is `UnsupportedMediaType` (415);
 * 3. **streamed size** — a chunked body is read up to the limit and no further (413 as soon as
 *    it passes it; `HttpServer.ts` drops the rest);
 * 4. **signature** (signed routes only) — Shopify's base64 HMAC-SHA256 of the raw bytes, with
 *    the current or the previous secret, compared in constant time (`InvalidSignature`, 401).
 *    Checked before the body is decoded: nothing of an unauthenticated body is interpreted;
 * 5. **UTF-8** — strictly (`InvalidUtf8`, 400): JSON exchanged between systems is UTF-8;
 * 6. **JSON** — parsed so that integers beyond ±(2^53 − 1) keep every digit, as exact decimal
 *    strings (`MalformedJson`, 400). Every route parses this way: it costs nothing unless the
 *    body holds such an integer, and no route should silently change a number a client sent
 *    (Shopify's ids already pass 2^53).
 *
 * Steps 1–4 are {@link readBody}, steps 5–6 {@link parseJson}; a route with headers to check
 * between the signature and the JSON (the webhook) runs them apart, the others {@link readJson}.
 */
import { Effect } from "effect"
import { parseJsonLossless } from "../../domain/shopify/losslessJson.ts"
import { InvalidSignature, InvalidUtf8, MalformedJson, PayloadTooLarge, UnsupportedMediaType } from "./HttpErrors.ts"
import { verifyHmac } from "./ShopifyHmac.ts"

/** What a route takes: its media types, its size limit, and its signature if it is signed. */
export interface IngressSpec {
  /** Lower-case `type/subtype`s, as a client should send them (`application/json`). */
  readonly mediaTypes: ReadonlyArray<string>
  /** The largest body, in bytes, declared or streamed. */
  readonly limit: number
  readonly signature?: {
    /** The base64 signature the request carries (header names differ by sender). */
    readonly header: (headers: Headers) => string | undefined
    /** The current secret first, then the previous one during a rotation. */
    readonly secrets: ReadonlyArray<string>
  }
}

export const APPLICATION_JSON = "application/json"

/**
 * The media type of a `Content-Type` value: type/subtype, lower-cased, without parameters
 * (`Application/JSON ; charset=UTF-8` → `application/json`); `undefined` when there is none.
 */
export const mediaTypeOf = (contentType: string | null | undefined): string | undefined => {
  const essence = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase()
  return essence === "" ? undefined : essence
}

/** Reads the raw body with a size cap (streams, so a huge body is refused without buffering it). */
export const readRawBody = async (request: Request, limit: number): Promise<Uint8Array | "too_large"> => {
  const declared = Number(request.headers.get("content-length") ?? NaN)
  if (Number.isFinite(declared) && declared > limit) return "too_large"
  // With a declared length the HTTP parser delivers exactly that many bytes: read them in one
  // go (@hono/node-server reads the socket directly instead of building a web stream).
  if (Number.isFinite(declared)) return new Uint8Array(await request.arrayBuffer())
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      return "too_large"
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return out
}

/**
 * Steps 1–4: the raw bytes of a body of an accepted media type, within the limit, and signed
 * when the route is. A failure to read the socket (the client went away) is a defect.
 */
export const readBody = (
  request: Request,
  spec: IngressSpec
): Effect.Effect<Uint8Array, UnsupportedMediaType | PayloadTooLarge | InvalidSignature> =>
  Effect.gen(function*() {
    const declared = Number(request.headers.get("content-length") ?? NaN)
    if (Number.isFinite(declared) && declared > spec.limit) return yield* new PayloadTooLarge({ limit: spec.limit })
    const mediaType = mediaTypeOf(request.headers.get("content-type"))
    if (mediaType === undefined || !spec.mediaTypes.includes(mediaType)) {
      return yield* new UnsupportedMediaType({ accepted: spec.mediaTypes })
    }
    const raw = yield* Effect.promise(() => readRawBody(request, spec.limit))
    if (raw === "too_large") return yield* new PayloadTooLarge({ limit: spec.limit })
    if (spec.signature !== undefined && !verifyHmac(raw, spec.signature.header(request.headers), spec.signature.secrets)) {
      return yield* new InvalidSignature()
    }
    return raw
  })

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

/** Steps 5–6: the body as JSON, integers beyond 2^53 kept exact (as decimal strings). */
export const parseJson = (raw: Uint8Array): Effect.Effect<unknown, InvalidUtf8 | MalformedJson> =>
  Effect.gen(function*() {
    const text = yield* Effect.try({ try: () => strictUtf8.decode(raw), catch: () => new InvalidUtf8() })
    return yield* Effect.try({ try: () => parseJsonLossless(text), catch: () => new MalformedJson() })
  })

/** The whole preamble (steps 1–6): the request's body as JSON. */
export const readJson = (request: Request, spec: IngressSpec) => Effect.flatMap(readBody(request, spec), parseJson)
