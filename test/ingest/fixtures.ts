/** Request bodies shared by the ingest suites. */

/** A valid `ad_spend` event with idempotency key `key`. */
export const adSpend = (key: string, overrides: Record<string, unknown> = {}) => ({
  idempotency_key: key,
  type: "ad_spend",
  occurred_at: "2026-03-02T06:00:00+01:00",
  platform: "google",
  account_id: "123-456-7890",
  campaign_id: "cmp-1",
  campaign_name: "Spring sale",
  date: "2026-03-01",
  spend: "123.45",
  currency: "EUR",
  impressions: 10_000,
  clicks: 321,
  conversions: 12.5,
  ...overrides
})
