/**
 * Channel mapping (`domain/intelligence/channels.ts`): a table of touches and the channel each
 * gets, by precedence — click ids over UTM over referrer over nothing — plus an unmapped
 * utm_source being its own channel and a shop's custom mapping overriding the default.
 */
import { describe, expect, it } from "vitest"
import {
  CHANNELS,
  channelOf,
  type ChannelMapping,
  DEFAULT_CHANNEL_MAPPING,
  isDirect,
  type TouchSignals,
  touchSignals
} from "../../../domain/intelligence/channels.ts"

const SHOP = "www.example-shop.com"

const touch = (
  s: { utm?: Partial<NonNullable<TouchSignals["utm"]>>; clicks?: ReadonlyArray<string>; referrer?: string; page?: string } = {}
): TouchSignals => ({
  utm: s.utm === undefined ? null : { source: null, medium: null, campaign: null, term: null, content: null, ...s.utm },
  click_id_kinds: s.clicks ?? [],
  referrer_host: s.referrer ?? null,
  page_host: s.page ?? SHOP
})

const CASES: ReadonlyArray<readonly [string, TouchSignals, string]> = [
  // 1. click ids
  ["gclid", touch({ clicks: ["gclid"] }), "paid_search_google"],
  ["wbraid", touch({ clicks: ["wbraid"] }), "paid_search_google"],
  ["msclkid", touch({ clicks: ["msclkid"] }), "paid_search_microsoft"],
  ["fbclid", touch({ clicks: ["fbclid"] }), "paid_social_meta"],
  ["ttclid", touch({ clicks: ["ttclid"] }), "paid_social_tiktok"],
  ["gclid wins over utm", touch({ clicks: ["gclid"], utm: { source: "newsletter", medium: "email" } }), "paid_search_google"],
  ["gclid wins over fbclid (mapping order)", touch({ clicks: ["fbclid", "gclid"] }), "paid_search_google"],
  ["an unknown click id falls through to utm", touch({ clicks: ["twclid"], utm: { source: "newsletter", medium: "email" } }), "email"],
  ["an unknown click id alone falls through to the referrer", touch({ clicks: ["epik"], referrer: "www.bing.com" }), "organic_search"],
  // 2. UTM
  ["utm_source=newsletter&utm_medium=email", touch({ utm: { source: "newsletter", medium: "email" } }), "email"],
  ["medium E-Mail, any case and spaces", touch({ utm: { source: "x", medium: "  E-Mail " } }), "email"],
  ["cpc + google", touch({ utm: { source: "google", medium: "cpc" } }), "paid_search_google"],
  ["ppc + a source naming google", touch({ utm: { source: "google_ads", medium: "ppc" } }), "paid_search_google"],
  ["cpc + bing", touch({ utm: { source: "bing", medium: "cpc" } }), "paid_search_microsoft"],
  ["paidsearch + an unknown platform", touch({ utm: { source: "brave", medium: "paidsearch" } }), "paid_search"],
  ["cpc with no source", touch({ utm: { medium: "cpc" } }), "paid_search"],
  ["paid_social + instagram", touch({ utm: { source: "instagram", medium: "paid_social" } }), "paid_social_meta"],
  ["cpm + fb", touch({ utm: { source: "fb", medium: "cpm" } }), "paid_social_meta"],
  ["social_paid + tiktok", touch({ utm: { source: "tiktok", medium: "social_paid" } }), "paid_social_tiktok"],
  ["paidsocial + snapchat", touch({ utm: { source: "snapchat", medium: "paidsocial" } }), "paid_social"],
  ["medium social-media", touch({ utm: { source: "facebook", medium: "social-media" } }), "social"],
  ["medium organic", touch({ utm: { source: "google", medium: "organic" } }), "organic_search"],
  ["medium referral", touch({ utm: { source: "blog", medium: "referral" } }), "referral"],
  ["medium affiliate", touch({ utm: { source: "awin", medium: "affiliate" } }), "affiliate"],
  ["medium sms", touch({ utm: { source: "attentive", medium: "sms" } }), "sms"],
  ["source table: klaviyo, no medium", touch({ utm: { source: "klaviyo" } }), "email"],
  ["source google without a paid medium is organic", touch({ utm: { source: "google" } }), "organic_search"],
  ["an unmapped utm_source is its own channel", touch({ utm: { source: "partnerblog" } }), "partnerblog"],
  ["…lower-cased and trimmed, also beside an unknown medium", touch({ utm: { source: "  PartnerBlog ", medium: "banner" } }), "partnerblog"],
  ["a source named like an Object.prototype key is still its own channel", touch({ utm: { source: "constructor" } }), "constructor"],
  ["an unknown medium without a source falls through to the referrer", touch({ utm: { medium: "banner" }, referrer: "news.ycombinator.com" }), "referral"],
  ["an empty utm_source counts as absent", touch({ utm: { source: "  " } }), "direct"],
  ["utm beats the referrer", touch({ utm: { source: "newsletter" }, referrer: "www.google.com" }), "email"],
  // 3. referrer
  ["google referrer", touch({ referrer: "www.google.com" }), "organic_search"],
  ["google under a two-level TLD", touch({ referrer: "www.google.co.uk" }), "organic_search"],
  ["google.* does not match google.evil.com", touch({ referrer: "google.evil.com" }), "referral"],
  ["duckduckgo", touch({ referrer: "duckduckgo.com" }), "organic_search"],
  ["yandex.ru", touch({ referrer: "yandex.ru" }), "organic_search"],
  ["l.facebook.com", touch({ referrer: "l.facebook.com" }), "social"],
  ["t.co", touch({ referrer: "t.co" }), "social"],
  ["pinterest.de", touch({ referrer: "www.pinterest.de" }), "social"],
  ["own host is direct", touch({ referrer: SHOP }), "direct"],
  ["own host with a port", touch({ referrer: `${SHOP}:443` }), "direct"],
  ["another subdomain of the shop's domain", touch({ referrer: "blog.example-shop.com" }), "direct"],
  ["the shop's myshopify host", touch({ referrer: "example-shop.myshopify.com" }), "direct"],
  ["a two-level TLD shop", touch({ referrer: "shop.example.co.uk", page: "www.example.co.uk" }), "direct"],
  ["another site under the same two-level TLD is not the shop", touch({ referrer: "other.co.uk", page: "www.example.co.uk" }), "referral"],
  ["checkout.shopify.com", touch({ referrer: "checkout.shopify.com" }), "direct"],
  ["shop.app", touch({ referrer: "shop.app" }), "direct"],
  ["any other host", touch({ referrer: "news.ycombinator.com" }), "referral"],
  // 4. nothing
  ["nothing at all", touch(), "direct"],
  ["an all-null utm", touch({ utm: {} }), "direct"]
]

describe("channelOf", () => {
  it.each(CASES)("%s", (_, signals, channel) => {
    expect(channelOf(signals)).toBe(channel)
  })

  it("a custom mapping overrides a default", () => {
    const custom: ChannelMapping = {
      ...DEFAULT_CHANNEL_MAPPING,
      sources: { ...DEFAULT_CHANNEL_MAPPING.sources, partnerblog: "affiliate", newsletter: "owned_media" },
      mediums: { ...DEFAULT_CHANNEL_MAPPING.mediums, display: "display" },
      clickIds: { ...DEFAULT_CHANNEL_MAPPING.clickIds, twclid: "paid_social_x" },
      searchEngines: [...DEFAULT_CHANNEL_MAPPING.searchEngines, "search.brave.com"]
    }
    expect(channelOf(touch({ utm: { source: "partnerblog" } }), custom)).toBe("affiliate")
    expect(channelOf(touch({ utm: { source: "newsletter" } }), custom)).toBe("owned_media")
    expect(channelOf(touch({ utm: { source: "dv360", medium: "display" } }), custom)).toBe("display")
    expect(channelOf(touch({ clicks: ["twclid"] }), custom)).toBe("paid_social_x")
    expect(channelOf(touch({ referrer: "search.brave.com" }), custom)).toBe("organic_search")
    // …and the defaults say otherwise
    expect(channelOf(touch({ utm: { source: "partnerblog" } }))).toBe("partnerblog")
    expect(channelOf(touch({ referrer: "search.brave.com" }))).toBe("referral")
  })

  it("the default mapping survives a JSON round trip unchanged", () => {
    expect(JSON.parse(JSON.stringify(DEFAULT_CHANNEL_MAPPING))).toEqual(DEFAULT_CHANNEL_MAPPING)
  })

  it("every channel the default mapping names is in CHANNELS; isDirect picks direct only", () => {
    const m = DEFAULT_CHANNEL_MAPPING
    const named = [...Object.values(m.clickIds), ...Object.values(m.mediums), ...Object.values(m.sources), ...Object.values(m.platforms).flatMap(Object.values)]
    expect(named.filter((c) => !(CHANNELS as ReadonlyArray<string>).includes(c))).toEqual([])
    expect(CHANNELS.filter(isDirect)).toEqual(["direct"])
  })

  it("reads a stored touchpoint's facts (page host under page.host)", () => {
    const signals = touchSignals({
      event_id: "00000000-0000-4000-8000-000000000000",
      event: "page_view",
      name: null,
      occurred_at: "2026-01-01T00:00:00.000Z",
      page: { host: SHOP, path: "/" },
      referrer_host: "blog.example-shop.com",
      utm: null,
      click_id_kinds: []
    })
    expect(signals.page_host).toBe(SHOP)
    expect(channelOf(signals)).toBe("direct")
  })
})
