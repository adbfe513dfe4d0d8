/**
 * Which storefront events are touches of a journey, and the touch an order carries itself.
 *
 * - A touchpoint is a **touch** when it brings the visitor from somewhere: it carries UTM
 *   parameters or an ad click id, comes from another site, or has no referrer at all (a typed or
 *   bookmarked visit, `direct`). Navigation inside the shop (the referrer is the shop's own host,
 *   and nothing else) continues the visit and is not a touch; neither is the `purchase` event,
 *   which is the conversion itself. Attribution thus counts visits by channel, not page views.
 * - An order from Shopify names its session's landing page (`landing_site`, with the visit's
 *   query string: UTM parameters, click ids) and referrer (`referring_site`). When no pixel touch
 *   reached the order (a shop without the pixel, a blocked script), that landing visit is the
 *   journey's one touch, at the order's time.
 * - Checkout URLs name the checkout's token (`/checkouts/cn/<token>`): a touch on a checkout page
 *   joins the order created from that checkout, also for a guest.
 */
import { KNOWN_CLICK_IDS, type TouchpointFacts } from "../ingest/Touchpoint.ts"
import type { TouchSignals } from "./channels.ts"

const hostOf = (url: string | null | undefined): string | null => {
  if (url === null || url === undefined || url.trim() === "") return null
  try {
    return new URL(url).host.toLowerCase() || null
  } catch {
    return null
  }
}

/** Whether a touchpoint starts a visit from a channel (see the module comment). */
export const isTouch = (facts: Pick<TouchpointFacts, "event" | "utm" | "click_id_kinds" | "referrer_host" | "page">): boolean => {
  if (facts.event === "purchase") return false
  const utm = facts.utm
  const marked = utm !== null && (utm.source !== null || utm.medium !== null || utm.campaign !== null)
  if (marked || facts.click_id_kinds.length > 0) return true
  const referrer = facts.referrer_host?.toLowerCase() ?? null
  return referrer === null || referrer !== facts.page.host.toLowerCase()
}

/**
 * The touch of an order's landing visit (`landing_site`, `referring_site`), or `null` when the
 * order names neither. `landing_site` is usually a path with a query (`/?utm_source=x`).
 */
export const landingSignals = (landingSite: string | null, referringSite: string | null, shopHost: string): TouchSignals | null => {
  const blank = (s: string | null) => s === null || s.trim() === ""
  if (blank(landingSite) && blank(referringSite)) return null
  let params = new URLSearchParams()
  let pageHost = shopHost
  if (!blank(landingSite)) {
    try {
      const url = new URL(landingSite!, `https://${shopHost}`)
      params = url.searchParams
      pageHost = url.host
    } catch {
      // an unparseable landing site names no campaign: the referrer alone decides
    }
  }
  const utm = (name: string) => {
    const v = params.get(`utm_${name}`)
    return v === null || v.trim() === "" ? null : v.trim()
  }
  const hasUtm = ["source", "medium", "campaign", "term", "content"].some((n) => utm(n) !== null)
  return {
    utm: hasUtm ? { source: utm("source"), medium: utm("medium"), campaign: utm("campaign"), term: utm("term"), content: utm("content") } : null,
    click_id_kinds: KNOWN_CLICK_IDS.filter((k) => (params.get(k) ?? "") !== ""),
    referrer_host: hostOf(referringSite),
    page_host: pageHost
  }
}

/** The checkout token a storefront URL names (`/checkouts/<token>`, `/checkouts/cn/<token>`, `/<shop id>/checkouts/<token>`), if any. */
export const checkoutTokenOf = (url: string): string | null => {
  try {
    const m = /\/checkouts\/(?:[a-z]{1,3}\/)?([A-Za-z0-9_-]{16,})/.exec(new URL(url).pathname)
    return m === null ? null : m[1]!
  } catch {
    return null
  }
}
