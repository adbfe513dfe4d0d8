/**
 * `SearchConsole` on Google's official client (`@googleapis/searchconsole`, Search Analytics
 * `searchanalytics.query`), with an OAuth access token; `apiUrl` points it at the simulator
 * (tests, the demo) or is Google's. Pages through `startRow` at the API's maximum `rowLimit`
 * (25,000). 429 and 5xx are `SearchConsoleUnavailable` (the daily pull tries again), other
 * answers `SearchConsoleRefused` with Google's message.
 */
import { googleApiFailure } from "../google/GoogleApiErrors.ts"
import { searchconsole, auth } from "@googleapis/searchconsole"
import { Effect, Layer, Redacted } from "effect"
import { FEATURED_SNIPPET, type SearchRow } from "../../domain/intelligence/seoDetectors.ts"
import { SearchConsole, SearchConsoleRefused, SearchConsoleUnavailable } from "../../src/intelligence/SearchConsole.ts"

export interface SearchConsoleOptions {
  readonly accessToken: Redacted.Redacted<string>
  /** Google's `https://searchconsole.googleapis.com/` unless pointed elsewhere (the simulator). */
  readonly apiUrl?: string
  /** Rows per request (the API allows 25,000). */
  readonly rowLimit?: number
}

const MAX_PAGES = 400

const failure = (error: unknown): SearchConsoleRefused | SearchConsoleUnavailable => {
  const f = googleApiFailure(error)
  return f.retryable
    ? new SearchConsoleUnavailable({ message: f.status === 0 ? f.message : `HTTP ${f.status}: ${f.message}` })
    : new SearchConsoleRefused({ status: f.status, message: f.message })
}

export const make = (options: SearchConsoleOptions) => {
  const oauth = new auth.OAuth2()
  oauth.setCredentials({ access_token: Redacted.value(options.accessToken) })
  const client = searchconsole({ version: "v1", auth: oauth, ...(options.apiUrl === undefined ? {} : { rootUrl: options.apiUrl.replace(/\/*$/, "/") }) })
  const rowLimit = options.rowLimit ?? 25_000

  const query = (siteUrl: string, from: string, to: string, appearance: string | null) =>
    Effect.gen(function*() {
      const out: Array<SearchRow> = []
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = yield* Effect.tryPromise({
          try: () =>
            client.searchanalytics.query({
              siteUrl,
              requestBody: {
                startDate: from, endDate: to, dimensions: ["date", "page", "query"], type: "web", dataState: "final",
                rowLimit, startRow: page * rowLimit,
                ...(appearance === null ? {} : { dimensionFilterGroups: [{ groupType: "and", filters: [{ dimension: "searchAppearance", operator: "equals", expression: appearance }] }] })
              }
            }),
          catch: failure
        })
        const rows = res.data.rows ?? []
        for (const r of rows) {
          const [date, url, q] = r.keys ?? []
          if (date === undefined || url === undefined || q === undefined) continue
          out.push({ date, page: url, query: q, clicks: r.clicks ?? 0, impressions: r.impressions ?? 0, position: r.position ?? 0, searchAppearance: appearance })
        }
        if (rows.length < rowLimit) break
      }
      return out
    })

  return SearchConsole.of({
    rows: (siteUrl, from, to) =>
      Effect.map(
        Effect.all([query(siteUrl, from, to, null), query(siteUrl, from, to, FEATURED_SNIPPET)]),
        ([plain, snippets]) => [...plain, ...snippets]
      )
  })
}

export const layer = (options: SearchConsoleOptions): Layer.Layer<SearchConsole> => Layer.succeed(SearchConsole, make(options))
