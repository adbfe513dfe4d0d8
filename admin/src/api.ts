/**
 * The app's one way to the admin API: `fetch` with the session token, typed errors, and
 * TanStack Query for caching, retries and refetching (server state lives there, not in
 * components).
 *
 * Every error the API answers is `{ "error": { "code", "message", "errors"? } }`: it becomes an
 * {@link ApiError} whose `message` is shown to the person as it is (the API writes them for
 * people). A network failure or a 5xx is retried twice with backoff; a 4xx is not (asking again
 * would not change the answer).
 */
import { QueryClient, useMutation, useQuery, useQueryClient, type UseQueryOptions } from "@tanstack/react-query"
import { appBridge, sessionToken } from "./session.ts"

export interface FieldProblem {
  readonly field: string
  readonly message: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: ReadonlyArray<FieldProblem> = [],
    readonly body: unknown = undefined,
    /** The 401's reason (`UNKNOWN_SHOP`, `EXPIRED`, …). */
    readonly reason: string | undefined = undefined
  ) {
    super(message)
  }
}

const plainMessage = (status: number): string =>
  status === 401
    ? "Your session has ended. Open the app again from your Shopify admin."
    : status === 403
    ? "Your role does not allow this. Ask the shop's owner for access."
    : status === 404
    ? "This was not found. It may have been deleted."
    : status === 429
    ? "Too many requests just now. Try again in a minute."
    : status >= 500
    ? "Sumeru could not answer just now. Try again in a moment."
    : "The request was not accepted."

/**
 * The shop's offline access token, asked for once per page in the Shopify admin: Shopify's managed
 * install gives the app no OAuth callback, so the first session token is exchanged for it
 * (`POST /auth/token-exchange`) when the API says the app is not installed on the shop yet.
 */
let exchange: Promise<boolean> | undefined
const exchangeSessionToken = (): Promise<boolean> => {
  exchange ??= (async () => {
    const token = await sessionToken()
    if (token === null) return false
    const res = await fetch("/auth/token-exchange", { method: "POST", headers: { authorization: `Bearer ${token}`, accept: "application/json" } }).catch(() => null)
    return res !== null && res.ok
  })()
  return exchange
}

/** One call; resolves to the parsed JSON (or `undefined` for an empty answer). */
export const api = async <T = unknown>(path: string, init: { method?: string; body?: unknown; accept?: string } = {}): Promise<T> => {
  try {
    return await call<T>(path, init)
  } catch (error) {
    if (error instanceof ApiError && error.reason === "UNKNOWN_SHOP" && appBridge() !== undefined && (await exchangeSessionToken())) {
      return call<T>(path, init)
    }
    throw error
  }
}

const call = async <T,>(path: string, init: { method?: string; body?: unknown; accept?: string }): Promise<T> => {
  const token = await sessionToken()
  if (token === null) throw new ApiError(401, "no_session", "Open this app from your Shopify admin, or from the link `npm start` prints.")
  let response: Response
  try {
    response = await fetch(path, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        accept: init.accept ?? "application/json",
        ...(init.body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
    })
  } catch {
    throw new ApiError(0, "network", "Sumeru cannot be reached. Check your connection and try again.")
  }
  const text = await response.text()
  let json: unknown = undefined
  if (text !== "" && init.accept === undefined) {
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; reason?: string; message?: string; errors?: ReadonlyArray<FieldProblem> } } | undefined)?.error
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      // a 401's own words are about tokens; the person needs to know what to do
      response.status === 401 ? plainMessage(401) : error?.message ?? plainMessage(response.status),
      error?.errors ?? [],
      json,
      error?.reason
    )
  }
  return (init.accept === undefined ? json : text) as T
}

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      retry: (failures, error) => failures < 2 && (!(error instanceof ApiError) || error.status === 0 || error.status >= 500),
      refetchOnWindowFocus: false
    }
  }
})

/** A GET of the admin API, cached under its path. */
export const useApi = <T,>(path: string | null, options: Partial<UseQueryOptions<T, ApiError>> = {}) =>
  useQuery<T, ApiError>({
    queryKey: [path],
    queryFn: () => api<T>(path!),
    enabled: path !== null,
    ...options
  })

/** A change through the API; the listed paths' cached answers are refreshed once it succeeds. */
export const useApiMutation = <T, V = void>(
  call: (variables: V) => Promise<T>,
  refresh: ReadonlyArray<string> = []
) => {
  const client = useQueryClient()
  return useMutation<T, ApiError, V>({
    mutationFn: call,
    onSuccess: () => {
      for (const prefix of refresh) {
        void client.invalidateQueries({ predicate: (q) => typeof q.queryKey[0] === "string" && q.queryKey[0].startsWith(prefix) })
      }
    }
  })
}

/** `?a=1&b=2`, leaving out empty values. */
export const query = (params: Record<string, string | number | undefined | null>): string => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`
}
