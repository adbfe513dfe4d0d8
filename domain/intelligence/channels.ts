/**
 * Which marketing channel brought a storefront touch: the first step of attribution, turning a
 * touch's clear facts (click ids, UTM parameters, referrer host, page host) into one snake_case
 * channel name. The first rule that applies wins:
 *
 * | # | signal                                   | channel                                                        |
 * |---|------------------------------------------|----------------------------------------------------------------|
 * | 1 | click id `gclid` `gbraid` `wbraid` `dclid` | `paid_search_google`                                          |
 * | 1 | click id `msclkid`                        | `paid_search_microsoft`                                        |
 * | 1 | click id `fbclid`                         | `paid_social_meta`                                             |
 * | 1 | click id `ttclid`                         | `paid_social_tiktok` (other kinds fall through)                |
 * | 2 | utm_medium `email` `e-mail` `newsletter`  | `email`                                                        |
 * | 2 | utm_medium `cpc` `ppc` `paid_search` `paidsearch` | `paid_search_google` / `paid_search_microsoft` when utm_source names google / bing, microsoft; else `paid_search` |
 * | 2 | utm_medium `paid_social` `paidsocial` `social_paid` `cpm` | `paid_social_meta` when utm_source names facebook, instagram, meta, fb, ig; `paid_social_tiktok` for tiktok; else `paid_social` |
 * | 2 | utm_medium `social` `social-network` `social-media` `sm` | `social`                                         |
 * | 2 | utm_medium `organic` / `referral` / `affiliate` / `sms` | `organic_search` / `referral` / `affiliate` / `sms` |
 * | 2 | any other utm_source                      | the `sources` table (`newsletter` → `email`, `google` → `organic_search`, `facebook` → `social` …), else **the source itself**, lower-cased and trimmed (`partnerblog`) |
 * | 3 | referrer: the shop's own site, `myshopify.com`, `checkout.shopify.com`, `shop.app` | `direct` (internal navigation) |
 * | 3 | referrer: a search engine (google.*, bing.com, duckduckgo.com, yahoo.*, ecosia.org, baidu.com, yandex.*) | `organic_search` |
 * | 3 | referrer: a social network (facebook.com, instagram.com, t.co, twitter.com, x.com, linkedin.com, pinterest.*, reddit.com, tiktok.com, youtube.com) | `social` |
 * | 3 | any other referrer                        | `referral`                                                     |
 * | 4 | nothing                                   | `direct`                                                       |
 *
 * Details that decide edge cases:
 * - Click ids are tried in the mapping's key order, so with two present the earlier entry wins.
 * - UTM values are compared lower-cased and trimmed; an empty value counts as absent. A medium
 *   the mapping does not know, with no utm_source, falls through to the referrer.
 * - "utm_source names google" means it is `google` or has `google` as one of its words
 *   (`google_ads`, `google-shopping`); the `sources` table matches the whole value only.
 * - Host patterns: `example.com` matches that host and its subdomains (`l.facebook.com`);
 *   `name.*` matches `name` under any top-level domain, also a two-level one (`google.co.uk`),
 *   and their subdomains (`www.google.de`). Ports and a trailing dot are ignored.
 * - "The shop's own site" is the page host or any host of the same registrable domain
 *   (approximated without a public-suffix list: the last two labels, three for `co.uk`-style
 *   suffixes). The signals do not carry the shop's myshopify domain, so every `myshopify.com`
 *   referrer counts as internal.
 *
 * Pure and total: every input gives a non-empty channel name; nothing throws. The mapping is
 * plain JSON so a shop can store its own (a custom mapping decides its own channel names).
 */
import type { TouchpointFacts } from "../ingest/Touchpoint.ts"

/** What a touch says about where it came from: the clear facts of a stored touchpoint. */
export interface TouchSignals {
  readonly utm: {
    readonly source: string | null
    readonly medium: string | null
    readonly campaign: string | null
    readonly term: string | null
    readonly content: string | null
  } | null
  /** e.g. `["gclid"]`. */
  readonly click_id_kinds: ReadonlyArray<string>
  /** e.g. `www.google.com`; null when there is no referrer. */
  readonly referrer_host: string | null
  /** The shop's storefront host of the page. */
  readonly page_host: string
}

/** The signals of a stored touchpoint (`TouchpointFacts` keeps the page host under `page.host`). */
export const touchSignals = (facts: TouchpointFacts): TouchSignals => ({
  utm: facts.utm,
  click_id_kinds: facts.click_id_kinds,
  referrer_host: facts.referrer_host,
  page_host: facts.page.host
})

export const DIRECT = "direct"

/**
 * The channels the default mapping produces. A channel is any string though: an unmapped
 * utm_source is its own channel, and a custom mapping may name others.
 */
export const CHANNELS = [
  "paid_search_google",
  "paid_search_microsoft",
  "paid_search",
  "paid_social_meta",
  "paid_social_tiktok",
  "paid_social",
  "email",
  "sms",
  "social",
  "organic_search",
  "referral",
  "affiliate",
  DIRECT
] as const
export type KnownChannel = typeof CHANNELS[number]

/** How signals map to channels; JSON-serialisable. Keys and values are compared lower-case. */
export interface ChannelMapping {
  /** Click-id kind → channel; the first present kind in this order wins. */
  readonly clickIds: Readonly<Record<string, string>>
  /** utm_medium alias → channel (`cpc` → `paid_search`). */
  readonly mediums: Readonly<Record<string, string>>
  /**
   * For a channel given by `mediums`, the platform-specific channel when utm_source names a
   * platform: `paid_search` + `google` → `paid_search_google`.
   */
  readonly platforms: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** utm_source → channel, when the medium names no channel; an unlisted source is its own channel. */
  readonly sources: Readonly<Record<string, string>>
  /** Referrer host patterns that mean internal navigation → `direct`. */
  readonly internalHosts: ReadonlyArray<string>
  /** Referrer host patterns of search engines → `organic_search`. */
  readonly searchEngines: ReadonlyArray<string>
  /** Referrer host patterns of social networks → `social`. */
  readonly socialNetworks: ReadonlyArray<string>
}

const GOOGLE_ADS = "paid_search_google"
const META_ADS = "paid_social_meta"

/** The table in this module's doc comment. */
export const DEFAULT_CHANNEL_MAPPING: ChannelMapping = {
  clickIds: {
    gclid: GOOGLE_ADS,
    gbraid: GOOGLE_ADS,
    wbraid: GOOGLE_ADS,
    dclid: GOOGLE_ADS,
    msclkid: "paid_search_microsoft",
    fbclid: META_ADS,
    ttclid: "paid_social_tiktok"
  },
  mediums: {
    "email": "email",
    "e-mail": "email",
    "newsletter": "email",
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paid_search": "paid_search",
    "paidsearch": "paid_search",
    "paid_social": "paid_social",
    "paidsocial": "paid_social",
    "social_paid": "paid_social",
    "cpm": "paid_social",
    "social": "social",
    "social-network": "social",
    "social-media": "social",
    "sm": "social",
    "organic": "organic_search",
    "referral": "referral",
    "affiliate": "affiliate",
    "sms": "sms"
  },
  platforms: {
    paid_search: { google: GOOGLE_ADS, adwords: GOOGLE_ADS, bing: "paid_search_microsoft", microsoft: "paid_search_microsoft" },
    paid_social: { facebook: META_ADS, instagram: META_ADS, meta: META_ADS, fb: META_ADS, ig: META_ADS, tiktok: "paid_social_tiktok" }
  },
  sources: {
    newsletter: "email",
    klaviyo: "email",
    mailchimp: "email",
    omnisend: "email",
    attentive: "sms",
    postscript: "sms",
    // Paid only when the medium says so (above); a bare search or social source is organic.
    google: "organic_search",
    bing: "organic_search",
    duckduckgo: "organic_search",
    facebook: "social",
    instagram: "social",
    tiktok: "social",
    pinterest: "social",
    linkedin: "social",
    twitter: "social",
    youtube: "social"
  },
  internalHosts: ["myshopify.com", "checkout.shopify.com", "shop.app"],
  searchEngines: ["google.*", "bing.com", "duckduckgo.com", "yahoo.*", "ecosia.org", "baidu.com", "yandex.*"],
  socialNetworks: [
    "facebook.com",
    "m.facebook.com",
    "l.facebook.com",
    "instagram.com",
    "t.co",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "pinterest.*",
    "reddit.com",
    "tiktok.com",
    "youtube.com"
  ]
}

/** True for the channel of touches with no marketing signal (and internal navigation). */
export const isDirect = (channel: string): boolean => channel === DIRECT

/** Lower-cased, trimmed; null when absent or empty. */
const clean = (value: string | null | undefined): string | null => {
  const v = value?.trim().toLowerCase() ?? ""
  return v === "" ? null : v
}

/** An own property only: `constructor` or `__proto__` are never table entries by accident. */
const lookup = (table: Readonly<Record<string, string>> | undefined, key: string): string | undefined =>
  table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined

const words = (value: string): ReadonlyArray<string> => value.split(/[^a-z0-9]+/).filter((w) => w !== "")

const platformOf = (channel: string, source: string | null, mapping: ChannelMapping): string => {
  const platforms = Object.hasOwn(mapping.platforms, channel) ? mapping.platforms[channel] : undefined
  if (source === null || platforms === undefined) return channel
  const sourceWords = words(source)
  const hit = Object.entries(platforms).find(([name]) => source === name || sourceWords.includes(name))
  return hit === undefined ? channel : hit[1]
}

/** Host without port, trailing dot or case; labels split. */
const labelsOf = (host: string): ReadonlyArray<string> => {
  const h = host.trim().toLowerCase()
  const bare = h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d*$/, "")
  return bare.replace(/\.$/, "").split(".").filter((l) => l !== "")
}

/** Second-level labels of two-level public suffixes (`co.uk`, `com.br`, `ne.jp`). */
const SECOND_LEVEL = new Set(["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "gob", "go"])

const isPublicSuffix = (labels: ReadonlyArray<string>): boolean =>
  labels.length === 1 || (labels.length === 2 && SECOND_LEVEL.has(labels[0]) && labels[1].length === 2)

const endsWith = (labels: ReadonlyArray<string>, suffix: ReadonlyArray<string>): boolean =>
  suffix.length > 0 && suffix.length <= labels.length && suffix.every((l, i) => labels[labels.length - suffix.length + i] === l)

const matchesHost = (labels: ReadonlyArray<string>, pattern: string): boolean => {
  const p = pattern.trim().toLowerCase()
  if (!p.endsWith(".*")) return endsWith(labels, labelsOf(p))
  const name = labelsOf(p.slice(0, -2))
  if (name.length === 0) return false
  for (let i = 0; i + name.length < labels.length; i++) {
    if (name.every((l, k) => labels[i + k] === l) && isPublicSuffix(labels.slice(i + name.length))) return true
  }
  return false
}

const registrable = (labels: ReadonlyArray<string>): ReadonlyArray<string> =>
  labels.slice(-(labels.length >= 3 && isPublicSuffix(labels.slice(-2)) ? 3 : 2))

const isOwnSite = (referrer: ReadonlyArray<string>, page: ReadonlyArray<string>): boolean =>
  page.length > 0 && registrable(referrer).join(".") === registrable(page).join(".")

const fromUtm = (utm: TouchSignals["utm"], mapping: ChannelMapping): string | null => {
  if (utm === null) return null
  const medium = clean(utm.medium)
  const source = clean(utm.source)
  const byMedium = medium === null ? undefined : lookup(mapping.mediums, medium)
  if (byMedium !== undefined) return platformOf(byMedium, source, mapping)
  if (source === null) return null
  return lookup(mapping.sources, source) ?? source
}

const fromReferrer = (referrerHost: string | null, pageHost: string, mapping: ChannelMapping): string => {
  const referrer = labelsOf(referrerHost ?? "")
  if (referrer.length === 0) return DIRECT
  const any = (patterns: ReadonlyArray<string>) => patterns.some((p) => matchesHost(referrer, p))
  if (isOwnSite(referrer, labelsOf(pageHost)) || any(mapping.internalHosts)) return DIRECT
  if (any(mapping.searchEngines)) return "organic_search"
  if (any(mapping.socialNetworks)) return "social"
  return "referral"
}

/**
 * The channel of one touch, by the precedence in this module's doc comment: click ids, then
 * UTM, then referrer, else `direct`. Total: always a non-empty channel name.
 */
export const channelOf = (touch: TouchSignals, mapping: ChannelMapping = DEFAULT_CHANNEL_MAPPING): string => {
  const kinds = new Set(touch.click_id_kinds.map((k) => k.trim().toLowerCase()))
  const byClick = Object.entries(mapping.clickIds).find(([kind]) => kinds.has(kind))
  if (byClick !== undefined) return byClick[1]
  return fromUtm(touch.utm, mapping) ?? fromReferrer(touch.referrer_host, touch.page_host, mapping)
}
