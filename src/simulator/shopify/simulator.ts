/**
 * Entry points: `createShopifySimulator` (in-process, use `app.request()` or mount the Hono
 * app) and `startShopifySimulator` (listens on 127.0.0.1, port 0 by default, through the
 * simulator kit's server: `sim.http.faults` and `sim.http.log` work on every route).
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Hono } from "hono"
import { DeterministicIds } from "../kit/DeterministicIds.ts"
import { HttpFaults } from "../kit/Faults.ts"
import { RequestLog, type HttpExchange } from "../kit/RequestLog.ts"
import { startSimulatorServer, type SimulatorServer } from "../kit/SimulatorServer.ts"
import { createSimulatorApp, shopifyErrorBody, uploadTempPath, type SimulatorHost } from "./app.ts"
import type { BulkPace } from "./bulk/types.ts"
import { systemClock, type Clock, type ManualClock } from "./clock.ts"
import { DEFAULT_APP_SCOPES } from "./oauth.ts"
import { ADMIN_API_VERSION, loadAdminSchema } from "./schema.ts"
import { ShopState, type ShopOptions } from "./shop.ts"
import type { SimulatorRuntime } from "./simulatedShop.ts"
import { MAX_STAGED_UPLOAD_BYTES } from "./stagedUploads.ts"
import { WebhookDispatcher, type WebhookDelivery } from "./webhooks.ts"

export interface ShopifySimulatorOptions {
  /** The shops to simulate (more can be added with `addShop`). */
  readonly shops: ReadonlyArray<ShopOptions>
  /** The app's client secret: signs webhooks, checked by the OAuth token exchange. */
  readonly appSecret: string
  /** The app's client id (checked by the OAuth endpoints when given). */
  readonly apiKey?: string
  /** The app's configured scopes: granted when `/admin/oauth/authorize` names none, and by token exchange. Default `read_products,write_products`. */
  readonly scopes?: string
  /** The app's `[auth] redirect_urls`: `/admin/oauth/authorize` refuses any other `redirect_uri`. Default: any http(s) URL. */
  readonly redirectUrls?: ReadonlyArray<string>
  /** App id: the app-reserved metafield namespace is `app--<appId>`. Default 1. */
  readonly appId?: number
  /** Shop used when neither Host nor token identify one. */
  readonly defaultShop?: string
  /** Where webhooks are POSTed (shops may override). Without one they are only recorded. */
  readonly webhookUrl?: string
  /** Delays before webhook retries (ms); length = number of retries. Default [100, 1000, 5000]. */
  readonly webhookRetryDelaysMs?: ReadonlyArray<number>
  /** Per-attempt webhook timeout. Default 5000 ms (Shopify's). */
  readonly webhookTimeoutMs?: number
  /** Time source (cost bucket, timestamps, URL expiry). A `ManualClock` also enables `/__sim/clock/advance`. */
  readonly clock?: Clock | ManualClock
  /** How bulk operations progress. Default `"immediate"`. */
  readonly bulkPace?: BulkPace
  /** Order of bulk mutation result lines: `"shuffled"` (default, like Shopify) or `"in-order"`. */
  readonly bulkMutationOrder?: "shuffled" | "in-order"
  /** API versions served (others get 404). Default `["2026-07"]`. */
  readonly apiVersions?: ReadonlyArray<string>
  /** Schema file (default `.cache/shopify/admin_2026-07.json.gz`). */
  readonly schemaPath?: string
  /** Public origin used in generated URLs when not listening (in-process use). */
  readonly baseUrl?: string
  /** Size cap of staged uploads. Default 100 MB (Shopify's); lower it to test the cap cheaply. */
  readonly maxStagedUploadBytes?: number
  /** Required `X-Sim-Control-Token` for `/__sim/` routes, if set. */
  readonly controlToken?: string
  /**
   * Seed of every id the simulator hands out (request, webhook and event ids, tokens,
   * authorization codes): the same seed and the same calls give the same ids. Default: a
   * random seed (ids unique per run, as Shopify's are).
   */
  readonly idSeed?: string | number
  /** Diagnostics sink (default: console.error). */
  readonly log?: (message: string) => void
}

export interface StartOptions extends ShopifySimulatorOptions {
  /** Default 0 (an ephemeral port). */
  readonly port?: number
  /** Default 127.0.0.1. */
  readonly hostname?: string
}

/** A `customFetchApi` for `@shopify/admin-api-client`. */
export type SimulatorFetch = (
  url: string,
  init?: { method?: string; headers?: HeadersInit; body?: string; signal?: AbortSignal; keepalive?: boolean }
) => Promise<Response>

/** The simulator. */
export interface ShopifySimulator {
  /** The Hono app (for in-process `app.request()` or mounting). */
  readonly app: Hono
  /** Origin of the simulator (`http://127.0.0.1:<port>` once listening). */
  readonly url: string
  readonly shops: ReadonlyArray<ShopState>
  /** A shop's state and controls (default: the first shop). Throws for unknown domains. */
  shop(domain?: string): ShopState
  addShop(options: ShopOptions): ShopState
  /** Webhook deliveries so far. */
  webhookDeliveries(): ReadonlyArray<WebhookDelivery>
  /** Resolves when no webhook delivery (or retry) is pending. */
  webhooksIdle(): Promise<void>
  setWebhookUrl(url: string | undefined): void
  /**
   * A fetch that re-targets `https://<shop>/admin/...` URLs (what admin-api-client builds)
   * to the simulator and keeps the shop in `X-Forwarded-Host`.
   */
  readonly fetch: SimulatorFetch
  /** Options for `createAdminApiClient` pointing at `domain` (default first shop). */
  adminClientOptions(domain?: string): {
    readonly storeDomain: string
    readonly apiVersion: string
    readonly accessToken: string
    readonly customFetchApi: SimulatorFetch
  }
  /**
   * HTTP-level fault injection and request log of the kit (any route: latency, error
   * status with headers, hang, dropped connection). They apply to requests through the
   * listening server (`startShopifySimulator`), not to in-process `app.request()`.
   */
  readonly http: { readonly faults: HttpFaults; readonly log: RequestLog<HttpExchange> }
  /** Stops timers, releases hanging requests, closes the server and deletes temp files. */
  close(): Promise<void>
}

export interface RunningShopifySimulator extends ShopifySimulator {
  readonly port: number
}

class Simulator implements ShopifySimulator, SimulatorHost {
  readonly app: Hono
  readonly shops: Array<ShopState> = []
  readonly apiVersions: ReadonlyArray<string>
  readonly defaultShop: string | undefined
  readonly appSecret: string
  readonly apiKey: string | undefined
  readonly appScopes: string
  readonly redirectUrls: ReadonlyArray<string> | undefined
  readonly controlToken: string | undefined
  readonly tmpDir: string
  readonly maxUploadBytes: number
  readonly advanceClock: ((ms: number) => void) | undefined
  readonly runtime: SimulatorRuntime
  readonly ids: DeterministicIds
  readonly http: { readonly faults: HttpFaults; readonly log: RequestLog<HttpExchange> }
  readonly #webhooks: WebhookDispatcher
  #url: string
  #webhookUrl: string | undefined
  #uploads = 0
  server: SimulatorServer | undefined

  constructor(options: ShopifySimulatorOptions) {
    const clock: Clock = typeof options.clock === "object" ? options.clock.now : (options.clock ?? systemClock)
    this.advanceClock = typeof options.clock === "object" ? options.clock.advance : undefined
    this.apiVersions = options.apiVersions ?? [ADMIN_API_VERSION]
    this.defaultShop = options.defaultShop?.toLowerCase()
    this.appSecret = options.appSecret
    this.apiKey = options.apiKey
    this.appScopes = options.scopes ?? DEFAULT_APP_SCOPES
    this.redirectUrls = options.redirectUrls
    this.controlToken = options.controlToken
    this.tmpDir = mkdtempSync(join(tmpdir(), "shopify-sim-"))
    this.maxUploadBytes = options.maxStagedUploadBytes ?? MAX_STAGED_UPLOAD_BYTES
    this.#url = options.baseUrl ?? "http://shopify-simulator.local"
    this.#webhookUrl = options.webhookUrl
    const ids = new DeterministicIds(options.idSeed === undefined ? {} : { seed: options.idSeed })
    this.ids = ids.fork("requests")
    this.http = { faults: new HttpFaults({ defaultBody: shopifyErrorBody }), log: new RequestLog<HttpExchange>({ limit: 10_000 }) }
    this.#webhooks = new WebhookDispatcher({
      secret: () => this.appSecret,
      clock,
      ids: ids.fork("webhooks"),
      ...(options.webhookRetryDelaysMs !== undefined ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
      ...(options.webhookTimeoutMs !== undefined ? { timeoutMs: options.webhookTimeoutMs } : {})
    })
    const self = this
    const log = options.log ?? ((m: string) => console.error(`[shopify-simulator] ${m}`))
    this.runtime = {
      schema: loadAdminSchema(options.schemaPath),
      clock,
      ids,
      get baseUrl() {
        return self.#url
      },
      tmpDir: this.tmpDir,
      maxUploadBytes: this.maxUploadBytes,
      signingKey: randomBytes(32).toString("hex"),
      appNamespace: `app--${options.appId ?? 1}`,
      bulkPace: options.bulkPace ?? "immediate",
      bulkMutationOrder: options.bulkMutationOrder ?? "shuffled",
      webhooks: this.#webhooks,
      get webhookUrl() {
        return self.#webhookUrl
      },
      nextBulkOperationId: () => ids.next("BulkOperation", 4_000_000_000),
      log
    }
    for (const shop of options.shops) this.addShop(shop)
    this.app = createSimulatorApp(this)
  }

  get url(): string {
    return this.#url
  }

  set url(value: string) {
    this.#url = value
  }

  shop(domain?: string): ShopState {
    const shop = domain === undefined ? this.shops[0] : this.shops.find((s) => s.domain === domain.toLowerCase())
    if (shop === undefined) throw new Error(`the simulator has no shop ${domain ?? "(none configured)"}`)
    return shop
  }

  addShop(options: ShopOptions): ShopState {
    if (this.shops.some((s) => s.domain === options.domain.toLowerCase())) throw new Error(`duplicate shop ${options.domain}`)
    const shop = new ShopState(options, this.runtime)
    this.shops.push(shop)
    return shop
  }

  uploadPath(): string {
    return uploadTempPath(this.tmpDir, this.#uploads++)
  }

  webhookDeliveries(): ReadonlyArray<WebhookDelivery> {
    return this.#webhooks.deliveries()
  }

  webhooksIdle(): Promise<void> {
    return this.#webhooks.idle()
  }

  setWebhookUrl(url: string | undefined): void {
    this.#webhookUrl = url
  }

  readonly fetch: SimulatorFetch = (url, init) => {
    const target = new URL(url)
    const headers = new Headers(init?.headers)
    headers.set("x-forwarded-host", target.host)
    return fetch(`${this.#url}${target.pathname}${target.search}`, { ...init, headers })
  }

  adminClientOptions(domain?: string) {
    const shop = this.shop(domain)
    return { storeDomain: shop.domain, apiVersion: ADMIN_API_VERSION, accessToken: shop.accessToken, customFetchApi: this.fetch }
  }

  async close(): Promise<void> {
    for (const shop of this.shops) {
      shop.bulk.close()
      shop.faults.releaseHangs()
    }
    await this.#webhooks.close()
    await this.server?.stop()
    rmSync(this.tmpDir, { recursive: true, force: true })
  }
}

/** Creates a simulator without listening (serve `sim.app` yourself, or use `app.request`). */
export const createShopifySimulator = (options: ShopifySimulatorOptions): ShopifySimulator => new Simulator(options)

/** Creates a simulator and listens on `hostname:port` (127.0.0.1:0 by default). */
export const startShopifySimulator = async (options: StartOptions): Promise<RunningShopifySimulator> => {
  const sim = new Simulator(options)
  const server = await startSimulatorServer({
    fetch: sim.app.fetch,
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    clock: sim.runtime.clock,
    faults: sim.http.faults,
    log: sim.http.log
  })
  sim.server = server
  sim.url = server.url
  return Object.assign(sim, { port: server.port }) as Simulator & RunningShopifySimulator
}
