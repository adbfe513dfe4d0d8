/**
 * Google Search Console's Search Analytics, as the SEO detectors read it (issue 13 §1): the
 * contract here, the client on the official `@googleapis/searchconsole` in
 * `adapters/searchconsole/SearchConsoleClient.ts`, a protocol-faithful simulator in
 * `src/simulator/searchconsole/`.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { SearchRow } from "../../domain/intelligence/seoDetectors.ts"

/** Search Console said no (bad request, no access to the site); retrying will not help. */
export class SearchConsoleRefused extends Schema.TaggedError<SearchConsoleRefused>()("SearchConsoleRefused", {
  status: Schema.Number,
  message: Schema.String
}) {}

/** Search Console could not answer now (quota, 5xx, network); the next pull tries again. */
export class SearchConsoleUnavailable extends Schema.TaggedError<SearchConsoleUnavailable>()("SearchConsoleUnavailable", {
  message: Schema.String
}) {}

export type SearchConsoleError = SearchConsoleRefused | SearchConsoleUnavailable

export class SearchConsole extends Context.Service<SearchConsole, {
  /**
   * Every (date, page, query) row of the property over `[from, to]` with final data only (the
   * real API's 2–3 day lag: recent days are absent), paginated to the end; then the rows that
   * appeared as a featured snippet, marked `searchAppearance: "FEATURED_SNIPPET"` (fetched with
   * a filter: the API does not group by appearance and other dimensions at once).
   */
  readonly rows: (siteUrl: string, from: string, to: string) => Effect.Effect<ReadonlyArray<SearchRow>, SearchConsoleError>
}>()("sumeru/intelligence/SearchConsole") {}

/** No property connected (`SEARCH_CONSOLE_SITES` empty): a pull says so and records nothing. */
export const layerNotConfigured: Layer.Layer<SearchConsole> = Layer.succeed(SearchConsole, SearchConsole.of({
  rows: () => Effect.fail(new SearchConsoleRefused({ status: 0, message: "Search Console is not configured (SEARCH_CONSOLE_SITES, SEARCH_CONSOLE_TOKEN)" }))
}))
