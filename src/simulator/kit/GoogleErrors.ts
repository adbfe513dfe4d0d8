/**
 * Google APIs' canonical status names by HTTP status (`google.rpc.Code`), as their JSON errors
 * carry them (`{ "error": { "code", "message", "status" } }`): shared by the simulators of
 * Google's APIs (Search Console, Merchant Center).
 */
export const GOOGLE_STATUS_NAMES: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE"
}
