/**
 * Google's error answers over REST: a `google.rpc.Status` (`{error: {code, message, status,
 * details}}`) whose `details` carry a `GoogleAdsFailure` (`@type`
 * `type.googleapis.com/google.ads.googleads.<version>.errors.GoogleAdsFailure`) listing
 * `GoogleAdsError`s, each with a one-of `errorCode` (`{quotaError: "RESOURCE_EXHAUSTED"}`), a
 * message, optional `details.quotaErrorDetails` and a `location` in the request.
 */

/** The canonical gRPC status of each HTTP status Google Ads answers, with Google's wording. */
const RPC: Readonly<Record<number, { readonly status: string; readonly message: string }>> = {
  400: { status: "INVALID_ARGUMENT", message: "Request contains an invalid argument." },
  401: {
    status: "UNAUTHENTICATED",
    message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
  },
  403: { status: "PERMISSION_DENIED", message: "The caller does not have permission" },
  404: { status: "NOT_FOUND", message: "Requested entity was not found." },
  429: { status: "RESOURCE_EXHAUSTED", message: "Resource has been exhausted (e.g. check quota)." },
  500: { status: "INTERNAL", message: "Internal error encountered." },
  501: { status: "UNIMPLEMENTED", message: "Operation is not implemented, or supported, or enabled." },
  503: { status: "UNAVAILABLE", message: "The service is currently unavailable." },
  504: { status: "DEADLINE_EXCEEDED", message: "Deadline expired before operation could complete." }
}

export const rpcStatus = (httpStatus: number): { readonly status: string; readonly message: string } =>
  RPC[httpStatus] ?? (httpStatus >= 500 ? (RPC[500] as { status: string; message: string }) : (RPC[400] as { status: string; message: string }))

/** One `GoogleAdsError`. */
export interface GoogleAdsErrorJson {
  /** One-of, e.g. `{ quotaError: "RESOURCE_TEMPORARILY_EXHAUSTED" }`. */
  readonly errorCode: Readonly<Record<string, string>>
  readonly message: string
  readonly details?: {
    readonly quotaErrorDetails?: { readonly rateScope: "ACCOUNT" | "DEVELOPER"; readonly rateName: string; readonly retryDelay?: string }
  }
  readonly location?: { readonly fieldPathElements: ReadonlyArray<{ readonly fieldName: string; readonly index?: number }> }
}

/** A JSON error answer with a `GoogleAdsFailure`. */
export const googleAdsFailure = (
  httpStatus: number,
  apiVersion: string,
  requestId: string,
  errors: ReadonlyArray<GoogleAdsErrorJson>
): Response => {
  const rpc = rpcStatus(httpStatus)
  return json(httpStatus, {
    error: {
      code: httpStatus,
      message: rpc.message,
      status: rpc.status,
      details: [{ "@type": `type.googleapis.com/google.ads.googleads.${apiVersion}.errors.GoogleAdsFailure`, errors, requestId }]
    }
  })
}

/** A JSON error answer without Google Ads details (front-end errors: no credentials, unknown method). */
export const rpcError = (httpStatus: number, message?: string): Response => {
  const rpc = rpcStatus(httpStatus)
  return json(httpStatus, { error: { code: httpStatus, message: message ?? rpc.message, status: rpc.status } })
}

/** `{ "seconds": 30 }` as a proto `Duration` in JSON: `"30s"` (fractions as `"0.250s"`). */
export const durationJson = (seconds: number): string => (Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(3)}s`)

export const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=UTF-8" } })

/**
 * The kit's default error body for injected faults (`sim.faults.failNext(503)`): a 5xx with a
 * `GoogleAdsFailure` of `internalError` (`TRANSIENT_ERROR` for 503, `INTERNAL_ERROR` otherwise);
 * other statuses get the bare `google.rpc.Status`.
 */
export const faultBody = (apiVersion: string) => (status: number): { readonly body: string; readonly contentType: string } => {
  const rpc = rpcStatus(status)
  const details = status >= 500
    ? [{
      "@type": `type.googleapis.com/google.ads.googleads.${apiVersion}.errors.GoogleAdsFailure`,
      errors: [{ errorCode: { internalError: status === 503 ? "TRANSIENT_ERROR" : "INTERNAL_ERROR" }, message: "An internal error has occurred." }]
    }]
    : undefined
  return {
    body: JSON.stringify({ error: { code: status, message: rpc.message, status: rpc.status, ...(details !== undefined ? { details } : {}) } }),
    contentType: "application/json; charset=UTF-8"
  }
}
