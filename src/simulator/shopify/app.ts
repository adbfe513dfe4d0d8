/**
 * HTTP surface of the simulator (Hono): the Admin GraphQL endpoint, OAuth (authorize, code and
 * token-exchange grants), the staged-upload bucket, signed bulk result downloads, and the
 * `/__sim/` control API.
 */
import { createReadStream } from "node:fs"
import { stat } from "node:fs/promises"
import { join } from "node:path"
import { Readable } from "node:stream"
import { Hono, type Context } from "hono"
import type { DeterministicIds } from "../kit/DeterministicIds.ts"
import { faultResponse, type DefaultErrorBody } from "../kit/Faults.ts"
import { prepareRequest, runOperation, type GraphQLRequestBody } from "./execute.ts"
import type { BulkFailureFault, RequestMatch } from "./faults.ts"
import {
  callbackUrl,
  checkAuthorizeRequest,
  ID_TOKEN_TYPE,
  isValidSubjectToken,
  OFFLINE_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT
} from "./oauth.ts"
import type { RequestLogEntry, ShopState } from "./shop.ts"
import { UploadError, escapeXml, gcsErrorXml, receiveMultipart } from "./stagedUploads.ts"

/** What the HTTP layer needs from the simulator. */
export interface SimulatorHost {
  readonly shops: ReadonlyArray<ShopState>
  readonly apiVersions: ReadonlyArray<string>
  readonly defaultShop: string | undefined
  readonly appSecret: string
  readonly apiKey: string | undefined
  /** The app's configured scopes (granted when `scope` is omitted, and by token exchange). */
  readonly appScopes: string
  /** The app's `[auth] redirect_urls`; any http(s) `redirect_uri` is accepted when undefined. */
  readonly redirectUrls: ReadonlyArray<string> | undefined
  readonly controlToken: string | undefined
  readonly tmpDir: string
  readonly maxUploadBytes: number
  /** Manual clock hook for `POST /__sim/clock/advance` (absent with a real clock). */
  readonly advanceClock: ((ms: number) => void) | undefined
  /** Source of request ids. */
  readonly ids: DeterministicIds
  uploadPath(): string
  webhookDeliveries(): ReadonlyArray<unknown>
}

const INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"

const hostOf = (c: Context): string | undefined => {
  const raw = c.req.header("x-forwarded-host") ?? c.req.header("host")
  return raw?.split(",")[0]?.trim().replace(/:\d+$/, "").toLowerCase()
}

/** The shop a request is for: by Host / X-Forwarded-Host, else by token, else the default. */
export const resolveShop = (host: SimulatorHost, c: Context): ShopState | undefined => {
  const name = hostOf(c)
  const byHost = host.shops.find((s) => s.domain === name)
  if (byHost !== undefined) return byHost
  const token = c.req.header("x-shopify-access-token")
  const byToken = token === undefined ? undefined : host.shops.find((s) => s.authenticate(token))
  return byToken ?? host.shops.find((s) => s.domain === host.defaultShop)
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers }
  })

const html = (status: number, body: string): Response =>
  new Response(`<!DOCTYPE html><html><body>${body}</body></html>`, { status, headers: { "Content-Type": "text/html; charset=utf-8" } })

const xml = (status: number, body: string): Response =>
  new Response(body, { status, headers: { "Content-Type": "application/xml; charset=UTF-8" } })

const DEFAULT_HTTP_BODIES: Record<number, { body: string; contentType: string }> = {
  429: { body: JSON.stringify({ errors: "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." }), contentType: "application/json; charset=utf-8" },
  500: { body: JSON.stringify({ errors: "Internal Server Error" }), contentType: "application/json; charset=utf-8" },
  502: { body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>", contentType: "text/html" },
  503: { body: JSON.stringify({ errors: "Service Unavailable" }), contentType: "application/json; charset=utf-8" },
  504: { body: "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>", contentType: "text/html" }
}

/** Shopify's body for an error status (what injected HTTP faults answer when they name none). */
export const shopifyErrorBody: DefaultErrorBody = (status) =>
  DEFAULT_HTTP_BODIES[status] ?? { body: JSON.stringify({ errors: `HTTP ${status}` }), contentType: "application/json; charset=utf-8" }

/** Builds the Hono app serving `host`. */
export const createSimulatorApp = (host: SimulatorHost): Hono => {
  const app = new Hono()

  app.post("/admin/api/:version/graphql.json", async (c) => {
    const version = c.req.param("version")
    if (!host.apiVersions.includes(version)) return json(404, { errors: "Not Found" })
    const shop = resolveShop(host, c)
    const token = c.req.header("x-shopify-access-token")
    if (shop === undefined || !shop.authenticate(token)) {
      shop?.requestLog.record({ at: shop.runtime.clock(), apiVersion: version, rootFields: [], operationName: undefined, variables: undefined, outcome: "unauthorized", httpStatus: 401 })
      return json(401, { errors: INVALID_TOKEN })
    }
    let body: GraphQLRequestBody
    try {
      const contentType = c.req.header("content-type") ?? ""
      body = contentType.includes("application/graphql") ? { query: await c.req.text() } : ((await c.req.json()) as GraphQLRequestBody)
      if (typeof body !== "object" || body === null) throw new Error("not an object")
    } catch {
      return json(400, { errors: "Invalid JSON in request body" })
    }
    const prepared = prepareRequest(shop, body)
    const headers = { "X-Shopify-API-Version": version, "X-Request-Id": host.ids.uuid() }
    const log = (outcome: RequestLogEntry["outcome"], httpStatus: number) =>
      shop.requestLog.record({
        at: shop.runtime.clock(),
        apiVersion: version,
        rootFields: prepared.rootFields,
        operationName: prepared.operationName,
        variables: body.variables,
        outcome,
        httpStatus
      })
    const fault = shop.faults.takeRequestFault({ rootFields: prepared.rootFields, operationName: prepared.operationName })
    if (fault?.kind === "hang") {
      log("hang", 504)
      await shop.faults.hangs.hold(c.req.raw.signal)
      return faultResponse({}, 504, shopifyErrorBody)
    }
    if (fault?.kind === "http") {
      log("http-error", fault.status)
      return faultResponse(
        {
          ...(fault.body !== undefined ? { body: fault.body } : {}),
          ...(fault.contentType !== undefined ? { contentType: fault.contentType } : {}),
          ...(fault.retryAfter !== undefined ? { headers: { "Retry-After": fault.retryAfter } } : {})
        },
        fault.status,
        shopifyErrorBody
      )
    }
    if (prepared.kind === "answer") {
      log("invalid", prepared.status)
      return json(prepared.status, prepared.body, headers)
    }
    const result = await runOperation(shop, prepared, version, fault?.kind === "throttle")
    log(result.outcome, result.status)
    return json(result.status, result.body, headers)
  })

  // Authorization code grant, step 1. On Shopify this is `https://<shop>/admin/oauth/authorize`;
  // on the simulator's shared origin the shop comes from the Host, then a `shop` parameter.
  app.get("/admin/oauth/authorize", (c) => {
    const query = new URL(c.req.url).searchParams
    const name = hostOf(c)
    const byParam = query.get("shop")?.toLowerCase()
    const shop = host.shops.find((s) => s.domain === name) ??
      host.shops.find((s) => s.domain === byParam) ??
      (byParam === undefined ? host.shops.find((s) => s.domain === host.defaultShop) : undefined)
    if (shop === undefined) return html(404, "<h1>There's no store at this address.</h1>")
    const grant = checkAuthorizeRequest({
      shop: shop.domain,
      query,
      apiKey: host.apiKey,
      redirectUrls: host.redirectUrls,
      appScopes: host.appScopes
    })
    if ("status" in grant) return html(grant.status, `<h1>${escapeXml(grant.message)}</h1>`)
    // The merchant approves at once (there is no consent screen to click through).
    const code = shop.issueAuthorizationCode(grant.scopes)
    return new Response(null, {
      status: 302,
      headers: { Location: callbackUrl(grant, shop.domain, code, shop.runtime.clock(), host.appSecret) }
    })
  })

  // Authorization code grant step 2, and the token-exchange grant of embedded apps.
  app.post("/admin/oauth/access_token", async (c) => {
    const shop = resolveShop(host, c)
    const contentType = c.req.header("content-type") ?? ""
    let params: Record<string, unknown> = {}
    try {
      params = contentType.includes("application/json")
        ? ((await c.req.json()) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(await c.req.text()))
      if (typeof params !== "object" || params === null) throw new Error("not an object")
    } catch {
      return json(400, { error: "invalid_request", error_description: "Malformed request body" })
    }
    if (params["client_secret"] !== host.appSecret || (host.apiKey !== undefined && params["client_id"] !== host.apiKey)) {
      return json(400, { error: "invalid_client", error_description: "Client authentication failed" })
    }
    if (params["grant_type"] === TOKEN_EXCHANGE_GRANT) {
      if (params["subject_token_type"] !== ID_TOKEN_TYPE) {
        return json(400, { error: "invalid_request", error_description: "subject_token_type must be urn:ietf:params:oauth:token-type:id_token" })
      }
      if (params["requested_token_type"] !== OFFLINE_TOKEN_TYPE) {
        // Online (per-user) tokens are not simulated.
        return json(400, { error: "invalid_request", error_description: "requested_token_type is not supported" })
      }
      const subject = params["subject_token"]
      const valid = shop !== undefined && typeof subject === "string" && isValidSubjectToken(subject, {
        secret: host.appSecret,
        clientId: String(params["client_id"]),
        shop: shop.domain,
        nowMs: shop.runtime.clock()
      })
      if (!valid || shop === undefined) {
        return json(400, { error: "invalid_subject_token", error_description: "Subject token is invalid" })
      }
      const issued = shop.exchangeSessionToken(host.appScopes)
      return json(200, { access_token: issued.token, scope: issued.scopes })
    }
    const issued = shop !== undefined && typeof params["code"] === "string" ? shop.exchangeAuthorizationCode(params["code"]) : undefined
    if (issued === undefined) {
      return json(400, { error: "invalid_request", error_description: "The authorization code was not found or was already used" })
    }
    return json(200, { access_token: issued.token, scope: issued.scopes })
  })

  app.post("/staged-uploads", async (c) => {
    const contentType = c.req.header("content-type") ?? ""
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
    if (!contentType.toLowerCase().startsWith("multipart/form-data") || boundary === null) {
      return xml(400, gcsErrorXml("InvalidArgument", "Invalid argument.", "POST object expects Content-Type multipart/form-data"))
    }
    const declared = Number(c.req.header("content-length") ?? "0")
    if (declared > host.maxUploadBytes + 1024 * 1024) {
      return xml(400, gcsErrorXml("EntityTooLarge", "Your proposed upload is larger than the maximum object size specified in your Policy Document."))
    }
    const body = c.req.raw.body
    if (body === null) return xml(400, gcsErrorXml("InvalidArgument", "Invalid argument.", "Empty body"))
    const filePath = host.uploadPath()
    let shop: ShopState | undefined
    try {
      const parsed = await receiveMultipart(body, boundary[1] ?? boundary[2] ?? "", {
        filePath,
        maxFileBytes: host.maxUploadBytes,
        beforeFile: (fields) => {
          const key = fields.get("key") ?? ""
          shop = host.shops.find((s) => key.startsWith(s.staged.prefix))
          const target = shop?.staged.target(key)
          if (shop === undefined || target === undefined) {
            throw new UploadError(403, "AccessDenied", "Access denied.")
          }
          for (const p of target.parameters) {
            const got = fields.get(p.name)
            if (got === undefined) throw new UploadError(400, "InvalidPolicyDocument", `Missing form field ${p.name} required by the policy.`)
            if (got !== p.value) {
              const code = p.name === "x-goog-signature" || p.name === "policy" ? "SignatureDoesNotMatch" : "InvalidPolicyDocument"
              throw new UploadError(403, code, `Policy condition failed for ${p.name}.`)
            }
          }
        }
      })
      if (parsed.file === undefined || shop === undefined) {
        return xml(400, gcsErrorXml("InvalidArgument", "Invalid argument.", "POST requires exactly one file upload per request."))
      }
      if (parsed.file.size === 0) {
        return xml(400, gcsErrorXml("EntityTooSmall", "Your proposed upload is smaller than the minimum object size specified in your Policy Document."))
      }
      const key = parsed.fields.get("key") ?? ""
      const s: ShopState = shop
      await s.staged.commit(key, filePath, parsed.file.size, parsed.file.sha256, s.runtime.clock())
      const location = `${c.req.url.replace(/\/staged-uploads.*$/, "")}/staged-uploads/${key}`
      return xml(
        201,
        `<?xml version="1.0" encoding="UTF-8"?><PostResponse><Location>${escapeXml(location)}</Location><Bucket>shopify-staged-uploads</Bucket><Key>${escapeXml(key)}</Key><ETag>"${parsed.file.sha256.slice(0, 32)}"</ETag></PostResponse>`
      )
    } catch (error) {
      if (error instanceof UploadError) return xml(error.status, gcsErrorXml(error.code, error.message))
      throw error
    }
  })

  app.get("/bulk-results/:shop/:file", async (c) => {
    const m = /^(\d+)(\.partial)?\.jsonl$/.exec(c.req.param("file"))
    const shop = host.shops.find((s) => String(s.number) === c.req.param("shop"))
    const op = m && shop ? shop.bulk.get(Number(m[1])) : undefined
    if (!m || shop === undefined || op === undefined) return xml(404, gcsErrorXml("NoSuchKey", "The specified key does not exist."))
    const path = new URL(c.req.url).pathname
    if (!shop.bulk.verifySignature(path, c.req.query("X-Goog-Signature"))) {
      return xml(403, gcsErrorXml("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."))
    }
    if (shop.bulk.isExpired(op)) return xml(400, gcsErrorXml("ExpiredToken", "The provided token has expired.", "Request signature expired"))
    const file = m[2] ? op.partialPath : op.resultPath
    if (file === null) return xml(404, gcsErrorXml("NoSuchKey", "The specified key does not exist."))
    const size = (await stat(file)).size
    const stream = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>
    return new Response(stream, { status: 200, headers: { "Content-Type": "application/jsonl", "Content-Length": String(size) } })
  })

  // ----------------------------------------------------------------- control API
  const control = new Hono()
  control.use("*", async (c, next) => {
    if (host.controlToken !== undefined && c.req.header("x-sim-control-token") !== host.controlToken) {
      return json(401, { error: "bad control token" })
    }
    await next()
  })
  const shopOr404 = (c: Context): ShopState | Response => {
    const domain = c.req.param("domain")?.toLowerCase()
    return host.shops.find((s) => s.domain === domain) ?? json(404, { error: `no shop ${domain ?? ""}` })
  }
  control.get("/shops", (c) =>
    c.json(host.shops.map((s) => ({ domain: s.domain, number: s.number, accessToken: s.accessToken, installed: s.installed, products: s.catalog.size })))
  )
  control.get("/shops/:domain/products/:id/metafields", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    const id = c.req.param("id")
    const n = /^\d+$/.test(id) ? Number(id) - shop.catalog.productIdOffset : shop.catalog.numOf(decodeURIComponent(id))
    if (n === undefined || shop.catalog.product(n) === undefined) return json(404, { error: "no such product" })
    return c.json(shop.metafields(n).map((m) => ({ id: m.gid, namespace: m.namespace, key: m.key, type: m.type, value: m.value })))
  })
  control.get("/shops/:domain/bulk-operations", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    return c.json(
      shop.bulkOperations().map((o) => ({
        id: `gid://shopify/BulkOperation/${o.id}`,
        type: o.type,
        status: o.status,
        errorCode: o.errorCode,
        objectCount: String(o.objectCount),
        query: o.query,
        stagedUploadPath: o.stagedUploadPath,
        clientIdentifier: o.clientIdentifier
      }))
    )
  })
  // What ran, for processes that cannot hold the shop handle (`shop.mutations` in-process).
  control.get("/shops/:domain/mutations", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    const field = c.req.query("field")
    return c.json(shop.mutations.filter((m) => field === undefined || m.field === field))
  })
  control.get("/shops/:domain/url-redirects", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    return c.json(shop.redirects())
  })
  control.post("/shops/:domain/bulk-operations/complete", async (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    await shop.bulk.completeAll()
    return c.json({ ok: true })
  })
  control.post("/shops/:domain/bulk-operations/:id/:action", async (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    const id = Number(c.req.param("id"))
    const action = c.req.param("action")
    const objects = Number(c.req.query("objects") ?? "1")
    const op =
      action === "start" ? await shop.bulk.start(id) : action === "step" ? await shop.bulk.step(id, objects) : action === "complete" ? await shop.bulk.complete(id) : undefined
    return op === undefined ? json(404, { error: `unknown action ${action}` }) : c.json({ id: op.id, status: op.status, objectCount: String(op.objectCount) })
  })
  control.post("/shops/:domain/faults", async (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    const f = (await c.req.json()) as {
      kind: string
      count?: number
      status?: number
      body?: string
      retryAfter?: string
      match?: RequestMatch
      ownerIds?: ReadonlyArray<string>
      code?: string
      message?: string
      rootField?: string
      field?: ReadonlyArray<string> | null
    } & BulkFailureFault
    const count = f.count ?? 1
    switch (f.kind) {
      case "throttle":
        shop.faults.throttleNext(count, f.match)
        break
      case "http":
        shop.faults.httpErrorNext(f.status ?? 500, count, {
          ...(f.body !== undefined ? { body: f.body } : {}),
          ...(f.retryAfter !== undefined ? { retryAfter: f.retryAfter } : {}),
          ...(f.match !== undefined ? { match: f.match } : {})
        })
        break
      case "hang":
        shop.faults.hangNext(count, f.match)
        break
      case "bulk-failure":
        shop.faults.failNextBulkOperation({
          ...(f.errorCode !== undefined ? { errorCode: f.errorCode } : {}),
          ...(f.type !== undefined ? { type: f.type } : {}),
          ...(f.afterObjects !== undefined ? { afterObjects: f.afterObjects } : {})
        })
        break
      case "mutation-errors":
        shop.faults.failMutationsFor(f.ownerIds ?? [], {
          ...(f.code !== undefined ? { code: f.code } : {}),
          ...(f.message !== undefined ? { message: f.message } : {})
        })
        break
      case "user-error":
        if (f.rootField === undefined || f.message === undefined) return json(400, { error: "user-error needs rootField and message" })
        shop.faults.userErrorNext(f.rootField, { message: f.message, ...(f.field !== undefined ? { field: f.field } : {}), ...(f.code !== undefined ? { code: f.code } : {}) }, count)
        break
      case "drop-webhooks":
        shop.faults.dropWebhooks(count)
        break
      case "duplicate-webhooks":
        shop.faults.duplicateWebhooks(count)
        break
      case "release-hangs":
        shop.faults.releaseHangs()
        break
      default:
        return json(400, { error: `unknown fault kind ${f.kind}` })
    }
    return c.json({ ok: true })
  })
  control.delete("/shops/:domain/faults", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    shop.faults.clear()
    return c.json({ ok: true })
  })
  control.post("/shops/:domain/uninstall", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    shop.uninstall()
    return c.json({ ok: true })
  })
  control.post("/shops/:domain/install", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    return c.json({ accessToken: shop.install() })
  })
  control.post("/shops/:domain/oauth-code", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    return c.json({ code: shop.issueAuthorizationCode() })
  })
  control.get("/shops/:domain/throttle-status", (c) => {
    const shop = shopOr404(c)
    if (shop instanceof Response) return shop
    return c.json(shop.throttleStatus())
  })
  control.get("/webhooks", (c) => c.json(host.webhookDeliveries()))
  control.post("/clock/advance", async (c) => {
    if (host.advanceClock === undefined) return json(409, { error: "the simulator runs on a real clock" })
    const { ms } = (await c.req.json()) as { ms: number }
    host.advanceClock(ms)
    return c.json({ ok: true })
  })
  app.route("/__sim", control)

  app.notFound(() => json(404, { errors: "Not Found" }))
  return app
}

/** Where uploads stream to before they are committed. */
export const uploadTempPath = (dir: string, n: number): string => join(dir, `upload-${n}.part`)
