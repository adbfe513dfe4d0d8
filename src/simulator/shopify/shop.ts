/**
 * One simulated shop: catalog, pages, publications, URL redirects, token, cost bucket,
 * staged uploads, bulk operations and faults — plus the controls tests use to inspect and
 * steer it.
 */
import { type BlogInit, Blogs, DEFAULT_BLOGS } from "./articles.ts"
import { readFile } from "node:fs/promises"
import { isDeepStrictEqual } from "node:util"
import type { DeterministicIds } from "../kit/DeterministicIds.ts"
import { RequestLog } from "../kit/RequestLog.ts"
import { BulkOperations } from "./bulk/operations.ts"
import type { BulkOperationRecord } from "./bulk/types.ts"
import { Catalog, type MetafieldRecord, type ProductInit, type ProductRecord } from "./catalog.ts"
import { isoSeconds } from "./clock.ts"
import { CostBucket, PLAN_LIMITS, type CostLimits, type ShopPlan, type ThrottleStatus } from "./cost.ts"
import { ShopFaults } from "./faults.ts"
import { gid, seedOf } from "./ids.ts"
import { DEFAULT_APP_SCOPES } from "./oauth.ts"
import { DEFAULT_PAGES, Pages, SEO_DESCRIPTION_KEY, SEO_NAMESPACE, SEO_TITLE_KEY, isPagePublished, type PageInit, type PageRecord } from "./pages.ts"
import { productSeo, type ProductSeo } from "./products.ts"
import { DEFAULT_PUBLICATION_NAMES, Publications, type PublicationRecord } from "./publications.ts"
import type { MutationCall, SimulatedShop, SimulatorRuntime } from "./simulatedShop.ts"
import { StagedUploads, type StagedFile } from "./stagedUploads.ts"
import { UrlRedirects, urlRedirectCreate, type UrlRedirectRecord } from "./urlRedirects.ts"
import type { WebhookDelivery } from "./webhooks.ts"

/** How to create a shop. */
export interface ShopOptions {
  /** e.g. `"acme.myshopify.com"`. */
  readonly domain: string
  /** The offline Admin API token the shop accepts. */
  readonly accessToken: string
  /** Number of generated products (default 100), or an explicit product list. */
  readonly products?: number | ReadonlyArray<ProductInit>
  /** Catalog seed (default: the domain). */
  readonly seed?: number | string
  /** Cost bucket: a plan name (default `"standard"`: 2000 / 100 per s) or explicit limits. */
  readonly plan?: ShopPlan | CostLimits
  /** Shop currency (for `money` metafields). Default `"USD"`. */
  readonly currency?: string
  /** Webhook address for this shop (overrides the simulator's). */
  readonly webhookUrl?: string
  /** Added to product numbers to form product IDs. Default 0 (`gid://shopify/Product/1`…). */
  readonly productIdOffset?: number
  /** Online store pages (`gid://shopify/Page/1`…). Default `DEFAULT_PAGES`: About us, Contact, Shipping policy (unpublished). */
  readonly pages?: ReadonlyArray<PageInit>
  /** Blogs and their articles (`gid://shopify/Blog/1`, `gid://shopify/Article/1`…). Default `DEFAULT_BLOGS`: "News" with two posts. */
  readonly blogs?: ReadonlyArray<BlogInit>
  /**
   * Sales channel publications, by name (`gid://shopify/Publication/1`… in this order).
   * Default `["Online Store", "Google & YouTube"]`.
   */
  readonly publications?: ReadonlyArray<string>
  readonly name?: string
}

/** A page as tests see it: the record plus its visibility and SEO metafields now. */
export interface PageSnapshot extends PageRecord {
  readonly isPublished: boolean
  readonly seo: ProductSeo
}

/** A redirect as tests see it. */
export interface UrlRedirectSnapshot {
  readonly id: string
  readonly path: string
  readonly target: string
}

/** One GraphQL request as the shop saw it. */
export interface RequestLogEntry {
  readonly at: number
  readonly apiVersion: string
  readonly rootFields: ReadonlyArray<string>
  readonly operationName: string | undefined
  readonly variables: unknown
  readonly outcome: "ok" | "throttled" | "max-cost" | "invalid" | "invalid-variables" | "http-error" | "hang" | "unauthorized"
  readonly httpStatus: number
}

/** Whether `actual` matches `expected`: objects by the keys `expected` gives, the rest deep-equal. */
const matchesArgs = (actual: unknown, expected: unknown): boolean => {
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
  if (!isRecord(expected)) return isDeepStrictEqual(actual, expected)
  return isRecord(actual) && Object.entries(expected).every(([key, value]) => matchesArgs(actual[key], value))
}

const limitsOf = (plan: ShopPlan | CostLimits | undefined): CostLimits =>
  plan === undefined ? PLAN_LIMITS.standard : typeof plan === "string" ? PLAN_LIMITS[plan] : plan

/** A simulated shop. The public methods are the test controls. */
export class ShopState implements SimulatedShop {
  readonly domain: string
  /** Numeric shop id (used in staged upload keys, `gid://shopify/Shop/<n>`). */
  readonly number: number
  readonly name: string
  readonly currency: string
  readonly catalog: Catalog
  readonly pages: Pages
  readonly blogs: Blogs
  readonly publications: Publications
  readonly urlRedirects = new UrlRedirects()
  /**
   * Every root mutation field executed (requests and bulk mutation lines), oldest first,
   * with coerced arguments and userErrors. See `mutationCalls` for the common query.
   */
  readonly mutationLog = new RequestLog<MutationCall>()
  readonly bucket: CostBucket
  readonly faults = new ShopFaults()
  readonly staged: StagedUploads
  readonly bulk: BulkOperations
  readonly runtime: SimulatorRuntime
  /** Every GraphQL request received, oldest first, with the kit's queries (`last`, `since`, `waitFor`…). */
  readonly requestLog = new RequestLog<RequestLogEntry>()
  /** This shop's ids (tokens, authorization codes), a fork of the simulator's. */
  readonly ids: DeterministicIds
  webhookUrl: string | undefined
  #tokens = new Set<string>()
  #installed = true
  /** Unused authorization codes and the scopes each one grants. */
  readonly #authCodes = new Map<string, string>()
  #scopes = DEFAULT_APP_SCOPES

  constructor(options: ShopOptions, runtime: SimulatorRuntime) {
    this.domain = options.domain.toLowerCase()
    this.number = 10_000_000 + (seedOf(`shop:${this.domain}`) % 89_999_999)
    this.name = options.name ?? this.domain.replace(/\.myshopify\.com$/, "")
    this.currency = options.currency ?? "USD"
    this.runtime = runtime
    this.ids = runtime.ids.fork(`shop:${this.domain}`)
    this.webhookUrl = options.webhookUrl
    this.#tokens.add(options.accessToken)
    this.catalog = new Catalog({
      products: options.products ?? 100,
      seed: options.seed ?? this.domain,
      ...(options.productIdOffset !== undefined ? { productIdOffset: options.productIdOffset } : {})
    })
    this.pages = new Pages(options.pages ?? DEFAULT_PAGES, { createdAtBase: Date.UTC(2024, 5, 1) })
    this.blogs = new Blogs(options.blogs ?? DEFAULT_BLOGS, { createdAtBase: Date.UTC(2024, 6, 1) })
    this.publications = new Publications(options.publications ?? DEFAULT_PUBLICATION_NAMES, this.catalog)
    this.bucket = new CostBucket(limitsOf(options.plan), runtime.clock)
    this.staged = new StagedUploads({
      shopNumber: this.number,
      shopDomain: this.domain,
      signingKey: runtime.signingKey,
      dir: runtime.tmpDir,
      maxBytes: runtime.maxUploadBytes
    })
    this.bulk = new BulkOperations(this)
    this.staged.onReplace = (key) => this.bulk.stagedFileReplaced(key)
  }

  /** Every GraphQL request received, oldest first (the entries of `requestLog`). */
  get requests(): ReadonlyArray<RequestLogEntry> {
    return this.requestLog.entries
  }

  /** The current access token (the most recently issued one). */
  get accessToken(): string {
    return [...this.#tokens].at(-1) ?? ""
  }

  get installed(): boolean {
    return this.#installed
  }

  /** The scopes granted by the latest install (comma-separated, as Shopify returns them). */
  get scopes(): string {
    return this.#scopes
  }

  /** Whether `token` may call the Admin API of this shop. */
  authenticate(token: string | undefined): boolean {
    return this.#installed && token !== undefined && this.#tokens.has(token)
  }

  /** @internal Product number from a gid or a number. */
  #num(product: string | number): number {
    const n = typeof product === "number" ? product : this.catalog.numOf(product)
    if (n === undefined || this.catalog.product(n) === undefined) throw new Error(`no product ${String(product)} in ${this.domain}`)
    return n
  }

  /** `gid://shopify/Product/<id>` of product number `n` (1-based). */
  productGid(n: number): string {
    return gid("Product", this.catalog.productIdOffset + n)
  }

  /** A product as currently served (tags and `updatedAt` included), for assertions. */
  product(product: string | number): ProductRecord {
    return this.catalog.product(this.#num(product)) as ProductRecord
  }

  /** A product's current metafields (for assertions). */
  metafields(product: string | number): ReadonlyArray<MetafieldRecord> {
    return this.catalog.metafields(this.#num(product))
  }

  /** One metafield of a product, or undefined. */
  metafield(product: string | number, namespace: string, key: string): MetafieldRecord | undefined {
    return this.catalog.metafield(this.#num(product), namespace, key)
  }

  /** Writes a metafield directly (test setup; no validation). */
  setMetafield(product: string | number, input: { namespace: string; key: string; type: string; value: string }): MetafieldRecord {
    return this.catalog.upsertMetafield(this.#num(product), input, this.runtime.clock())
  }

  /** Deletes a metafield directly (test setup). */
  deleteMetafield(product: string | number, namespace: string, key: string): boolean {
    return this.catalog.deleteMetafield(this.#num(product), namespace, key)
  }

  /** A product's SEO title and description (`Product.seo`; null when not set). */
  productSeo(product: string | number): ProductSeo {
    return productSeo(this.catalog, this.#num(product))
  }

  /** @internal Page number from a gid or a number. */
  #pageNum(page: string | number): number {
    const n = typeof page === "number" ? page : this.pages.numOf(page)
    if (n === undefined || this.pages.get(n) === undefined) throw new Error(`no page ${String(page)} in ${this.domain}`)
    return n
  }

  /** A page as currently served, with `isPublished` and its SEO metafields (for assertions). */
  page(page: string | number): PageSnapshot {
    const record = this.pages.get(this.#pageNum(page)) as PageRecord
    return { ...record, isPublished: isPagePublished(record, this.runtime.clock()), seo: this.pageSeo(record.num) }
  }

  /** Every page, by id, as `page(n)` shows it. */
  pageList(): ReadonlyArray<PageSnapshot> {
    return this.pages.list().map((p) => this.page(p.num))
  }

  /** A page's SEO: its `global.title_tag` / `global.description_tag` metafields (null when absent). */
  pageSeo(page: string | number): ProductSeo {
    const n = this.#pageNum(page)
    return {
      title: this.pages.metafield(n, SEO_NAMESPACE, SEO_TITLE_KEY)?.value ?? null,
      description: this.pages.metafield(n, SEO_NAMESPACE, SEO_DESCRIPTION_KEY)?.value ?? null
    }
  }

  /** Every URL redirect, oldest first. */
  redirects(): ReadonlyArray<UrlRedirectSnapshot> {
    return this.urlRedirects.list().map((r) => ({ id: r.gid, path: r.path, target: r.target }))
  }

  /** The redirect of a path (case-insensitive, as Shopify matches paths), if any. */
  redirect(path: string): UrlRedirectSnapshot | undefined {
    const r = this.urlRedirects.byPath(path)
    return r === undefined ? undefined : { id: r.gid, path: r.path, target: r.target }
  }

  /** Creates a redirect directly (test setup), with `urlRedirectCreate`'s validation: throws on a userError. */
  addRedirect(path: string, target: string): UrlRedirectRecord {
    const result = urlRedirectCreate(this.urlRedirects, { path, target }, this.runtime.clock())
    if (result.urlRedirect === null) throw new Error(result.userErrors.map((e) => e.message).join("; "))
    return result.urlRedirect
  }

  /** The shop's publications (`Online Store`, `Google & YouTube` unless configured). */
  publicationList(): ReadonlyArray<PublicationRecord> {
    return this.publications.list()
  }

  /** @internal A publication by name or gid. */
  #publication(publication: string): PublicationRecord {
    const found = this.publications.find(publication)
    if (found === undefined) throw new Error(`no publication ${publication} in ${this.domain}`)
    return found
  }

  /** Whether a product is published (not just scheduled) on a publication, given by name (`"Online Store"`) or gid. */
  isPublished(product: string | number, publication: string): boolean {
    return this.publications.isPublished(this.#num(product), this.#publication(publication).num, this.runtime.clock())
  }

  /** Publishes a product on a publication now (test setup; publishing twice is a no-op). */
  publish(product: string | number, publication: string): void {
    const now = this.runtime.clock()
    this.publications.publish(this.#num(product), this.#publication(publication).num, now, now)
  }

  /** Unpublishes a product from a publication (test setup). */
  unpublish(product: string | number, publication: string): void {
    this.publications.unpublish(this.#num(product), this.#publication(publication).num)
  }

  /** Every root mutation field executed, oldest first (the entries of `mutationLog`). */
  get mutations(): ReadonlyArray<MutationCall> {
    return this.mutationLog.entries
  }

  /**
   * Calls of root mutation `field` whose arguments match `args`, e.g.
   * `mutationCalls("tagsAdd", { id: shop.productGid(1) })` or
   * `mutationCalls("productUpdate", { product: { id } })`. Objects match when every key given
   * matches (input objects carry coerced defaults the caller never wrote); arrays and scalars
   * must be equal. Includes calls that answered userErrors: check `userErrors` (empty on
   * success) to keep only the successful ones.
   */
  mutationCalls(field: string, args: Readonly<Record<string, unknown>> = {}): ReadonlyArray<MutationCall> {
    return this.mutationLog.filter((c) => c.field === field && matchesArgs(c.args, args))
  }

  /** Every bulk operation submitted to this shop, oldest first, with what was submitted. */
  bulkOperations(): ReadonlyArray<BulkOperationRecord> {
    return this.bulk.list()
  }

  /** Result lines of a finished bulk operation (reads the whole file: small results only). */
  async bulkResultLines(id: number | string, which: "result" | "partial" = "result"): Promise<ReadonlyArray<unknown>> {
    const op = this.bulk.list().find((o) => o.id === id || gid("BulkOperation", o.id) === id)
    const path = which === "result" ? op?.resultPath : op?.partialPath
    if (op === undefined || path === null || path === undefined) return []
    const text = await readFile(path, "utf8")
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as unknown)
  }

  /** Uploaded staged files, in upload order. */
  stagedFiles(): ReadonlyArray<StagedFile> {
    return this.staged.files()
  }

  throttleStatus(): ThrottleStatus {
    return this.bucket.status()
  }

  /** Changes the bucket (plan name or explicit limits). */
  setCostLimits(plan: ShopPlan | CostLimits): void {
    this.bucket.setLimits(limitsOf(plan))
  }

  /** Sets the points currently available (e.g. 0 to force throttling). */
  setAvailablePoints(points: number): void {
    this.bucket.setAvailable(points)
  }

  /** Uninstalls the app: every token is revoked (401), and `app/uninstalled` is sent. */
  uninstall(options: { readonly webhook?: boolean } = {}): void {
    this.#installed = false
    this.#tokens.clear()
    if (options.webhook !== false) {
      this.sendWebhook("app/uninstalled", "2026-07", {
        id: this.number,
        name: this.name,
        email: `owner@${this.domain}`,
        domain: this.domain,
        myshopify_domain: this.domain,
        currency: this.currency
      })
    }
  }

  /** Installs the app again with `token` (default: a fresh `shpat_…`); returns the token. */
  install(token: string = `shpat_${this.ids.hex(16)}`): string {
    this.#installed = true
    this.#tokens.add(token)
    return token
  }

  /**
   * Issues a one-time OAuth authorization code for `POST /admin/oauth/access_token`, granting
   * `scopes` (what the merchant approved on the authorize screen).
   */
  issueAuthorizationCode(scopes: string = DEFAULT_APP_SCOPES): string {
    const code = this.ids.hex(16)
    this.#authCodes.set(code, scopes)
    return code
  }

  /**
   * @internal Exchanges an authorization code (single use) for a new offline token: the app is
   * (re)installed with the code's scopes.
   */
  exchangeAuthorizationCode(code: string): { readonly token: string; readonly scopes: string } | undefined {
    const scopes = this.#authCodes.get(code)
    if (scopes === undefined) return undefined
    this.#authCodes.delete(code)
    this.#scopes = scopes
    return { token: this.install(), scopes }
  }

  /**
   * @internal Token exchange (embedded apps): a verified session token buys a new offline
   * token with the app's configured scopes (Shopify-managed installation installs the app
   * before App Bridge can mint a session token, so this also (re)installs).
   */
  exchangeSessionToken(scopes: string): { readonly token: string; readonly scopes: string } {
    this.#scopes = scopes
    return { token: this.install(), scopes }
  }

  /** The `Shop` object served by `shop { … }`. */
  shopObject(): Record<string, unknown> {
    const created = isoSeconds(Date.UTC(2024, 0, 1))
    return {
      __typename: "Shop",
      id: gid("Shop", this.number),
      name: this.name,
      myshopifyDomain: this.domain,
      email: `owner@${this.domain}`,
      contactEmail: `owner@${this.domain}`,
      currencyCode: this.currency,
      ianaTimezone: "Etc/UTC",
      url: `https://${this.domain}`,
      createdAt: created,
      updatedAt: created
    }
  }

  /** @internal Sends a webhook for this shop, honouring drop/duplicate faults. */
  sendWebhook(topic: string, apiVersion: string, payload: unknown): ReadonlyArray<WebhookDelivery> {
    return this.runtime.webhooks.send({
      topic,
      shopDomain: this.domain,
      apiVersion,
      payload,
      url: this.webhookUrl ?? this.runtime.webhookUrl,
      drop: this.faults.takeWebhookDrop(),
      duplicate: this.faults.takeWebhookDuplicate()
    })
  }
}
