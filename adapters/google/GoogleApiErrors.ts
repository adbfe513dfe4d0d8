/**
 * How a failure of one of Google's official Node clients (`googleapis-common`, gaxios) reads: its
 * HTTP status (0 when there was no answer) and message, and whether waiting can help — 429, 5xx
 * and no answer are worth the next run; anything else is a refusal with Google's own words.
 */
export interface GoogleApiFailure {
  readonly status: number
  readonly message: string
  readonly retryable: boolean
}

export const googleApiFailure = (error: unknown): GoogleApiFailure => {
  const e = error as { readonly code?: unknown; readonly status?: unknown; readonly message?: unknown; readonly response?: { readonly status?: number } }
  const status = typeof e.response?.status === "number" ? e.response.status : typeof e.code === "number" ? e.code : typeof e.status === "number" ? e.status : 0
  const message = typeof e.message === "string" ? e.message : String(error)
  return { status, message, retryable: status === 0 || status === 429 || status >= 500 }
}
