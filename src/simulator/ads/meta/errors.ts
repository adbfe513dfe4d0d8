/**
 * Graph API error answers in Meta's shape: `{"error": {message, type, code, error_subcode?,
 * is_transient?, error_user_title?, error_user_msg?, fbtrace_id}}`, HTTP 400 for client and
 * throttling errors, 5xx for Meta's own failures. Messages and codes are the ones Meta sends
 * (Graph API "Handling Errors", Marketing API "Rate Limiting" and "Error Codes" pages, and
 * answers quoted verbatim in SDK and connector issue trackers — see README.md).
 */

export interface GraphError {
  readonly status: number
  readonly message: string
  readonly type: string
  readonly code: number
  readonly error_subcode?: number
  readonly is_transient?: boolean
  readonly error_user_title?: string
  readonly error_user_msg?: string
}

/** Meta's `{"error": {...}}` body for `error`. */
export const graphErrorBody = (error: GraphError, fbtraceId: string): { readonly error: Record<string, unknown> } => {
  const { status: _status, ...fields } = error
  return { error: { ...fields, fbtrace_id: fbtraceId } }
}

/** Meta prints session times in Menlo Park: `Tuesday, 04-Jul-23 02:11:32 PDT`. */
const formatSessionTime = (at: number): string => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: "America/Los_Angeles",
      weekday: "long",
      day: "2-digit",
      month: "short",
      year: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short"
    })
      .formatToParts(new Date(at))
      .map((p) => [p.type, p.value])
  ) as Record<string, string>
  return `${parts.weekday}, ${parts.day}-${parts.month}-${parts.year} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`
}

const RATE_LIMITING_DOCS = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"

export const MetaErrors = {
  /** Code 190 / subcode 463: the token's session expired. */
  tokenExpired: (expiredAt: number, now: number): GraphError => ({
    status: 400,
    message: `Error validating access token: Session has expired on ${formatSessionTime(expiredAt)}. The current time is ${formatSessionTime(now)}.`,
    type: "OAuthException",
    code: 190,
    error_subcode: 463
  }),
  /** Code 190 without a subcode: a token Meta never issued. */
  tokenInvalid: (): GraphError => ({
    status: 400,
    message: "Invalid OAuth access token - Cannot parse access token",
    type: "OAuthException",
    code: 190
  }),
  tokenMissing: (): GraphError => ({
    status: 400,
    message: "An access token is required to request this resource.",
    type: "OAuthException",
    code: 104
  }),
  /** Code 100 / subcode 33: no such object, or not visible with this token. */
  unknownObject: (method: "get" | "post", id: string): GraphError => ({
    status: 400,
    message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    type: "GraphMethodException",
    code: 100,
    error_subcode: 33
  }),
  nonexistingField: (field: string, nodeType: string): GraphError => ({
    status: 400,
    message: `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`,
    type: "OAuthException",
    code: 100
  }),
  invalidParameter: (message: string, user?: { readonly title: string; readonly message: string }): GraphError => ({
    status: 400,
    message: `(#100) ${message}`,
    type: "OAuthException",
    code: 100,
    ...(user === undefined ? {} : { error_user_title: user.title, error_user_msg: user.message })
  }),
  unknownPath: (path: string): GraphError => ({
    status: 400,
    message: `Unknown path components: ${path}`,
    type: "OAuthException",
    code: 2500
  }),
  deprecatedVersion: (latest: string): GraphError => ({
    status: 400,
    message: `(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: ${latest}.`,
    type: "OAuthException",
    code: 2635
  }),
  /** Ad-account level score limit (Marketing API "Rate Limiting"). */
  userRequestLimit: (): GraphError => ({
    status: 400,
    message: "(#17) User request limit reached",
    type: "OAuthException",
    is_transient: true,
    code: 17,
    error_subcode: 2446079
  }),
  /** Real-time limit on mutations of an ad account. */
  accountRateLimit: (): GraphError => ({
    status: 400,
    message: "(#613) There have been too many calls from this ad-account. Please wait a bit and try again.",
    type: "OAuthException",
    is_transient: true,
    code: 613,
    error_subcode: 1487742
  }),
  appRequestLimit: (): GraphError => ({
    status: 400,
    message: "(#4) Application request limit reached",
    type: "OAuthException",
    is_transient: true,
    code: 4,
    error_subcode: 1504022
  }),
  /** Business Use Case limit of `ads_management`. */
  adsManagementLimit: (): GraphError => ({
    status: 400,
    message: `(#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to ${RATE_LIMITING_DOCS}#ads-management.`,
    type: "OAuthException",
    code: 80004,
    error_subcode: 2446079
  }),
  /** Business Use Case limit of `ads_insights`. */
  adsInsightsLimit: (): GraphError => ({
    status: 400,
    message: `(#80000) There have been too many calls from this ad-account. Wait a bit and try again. For more info, please refer to ${RATE_LIMITING_DOCS}#ads-insights.`,
    type: "OAuthException",
    code: 80000,
    error_subcode: 2446079
  }),
  /** What Meta answers with a 5xx: code 1 (unknown) or 2 (service), both transient. */
  serverError: (status: number): GraphError =>
    status === 503
      ? { status, message: "Service temporarily unavailable", type: "OAuthException", is_transient: true, code: 2 }
      : { status, message: "An unknown error has occurred.", type: "OAuthException", is_transient: true, code: 1 }
} as const

/** The throttling error codes the simulator can answer. */
export type ThrottleCode = 4 | 17 | 613 | 80000 | 80004

/** Meta's answer for a throttling `code` (what the window and `throttleNext` send). */
export const throttleError = (code: ThrottleCode): GraphError => {
  switch (code) {
    case 4:
      return MetaErrors.appRequestLimit()
    case 17:
      return MetaErrors.userRequestLimit()
    case 613:
      return MetaErrors.accountRateLimit()
    case 80000:
      return MetaErrors.adsInsightsLimit()
    case 80004:
      return MetaErrors.adsManagementLimit()
  }
}
