/**
 * Online store URL redirects (`urlRedirectCreate` / `urlRedirectUpdate` / `urlRedirectDelete`,
 * `urlRedirect(id:)`, `urlRedirects(query:)`) with Shopify's rules: a shop holds at most one
 * redirect per path, and paths compare case-insensitively (the storefront matches them that
 * way, so `/Old` and `/old` are the same redirect). A full URL given as `path` is stored
 * without its scheme and domain, and a path always starts with `/`. Validation errors are
 * collected (all of them, as Rails validations report) and nothing is written when any occurs.
 *
 * The messages are Rails' validation messages on the redirect's `path` / `target`; the
 * `code` is the operation's `UrlRedirectErrorCode` (`CREATE_FAILED`, `UPDATE_FAILED`,
 * `DOES_NOT_EXIST`), the only codes the 2026-07 enum has.
 */
import { gid, gidNumber } from "./ids.ts"

/** Longest `path` Shopify stores (REST `Redirect` resource: "maximum: 1024 characters"). */
export const MAX_REDIRECT_PATH_LENGTH = 1024
/** Longest `target` Shopify stores ("maximum: 255 characters"). */
export const MAX_REDIRECT_TARGET_LENGTH = 255

/** A stored redirect. `id` is the numeric part of the gid. */
export interface UrlRedirectRecord {
  readonly __typename: "UrlRedirect"
  readonly id: number
  readonly gid: string
  readonly path: string
  readonly target: string
  readonly createdAt: number
}

/** `UrlRedirectInput` after GraphQL coercion (both fields are optional in the schema). */
export interface UrlRedirectInput {
  readonly path?: string | null
  readonly target?: string | null
}

/** `UrlRedirectUserError`. */
export interface UrlRedirectUserError {
  readonly field: ReadonlyArray<string> | null
  readonly message: string
  readonly code: "CREATE_FAILED" | "UPDATE_FAILED" | "DELETE_FAILED" | "DOES_NOT_EXIST" | null
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * A redirect path as Shopify stores it: trimmed, the scheme and host of a full URL dropped
 * (query string kept, fragment dropped), and a leading `/`. Blank stays blank.
 */
export const normalizeRedirectPath = (raw: string): string => {
  let path = raw.trim()
  if (path === "") return ""
  if (ABSOLUTE_URL.test(path)) {
    try {
      const url = new URL(path)
      path = `${url.pathname}${url.search}`
    } catch {
      // Not a parseable URL: keep it as typed (it still gets its leading slash).
    }
  }
  return path.startsWith("/") ? path : `/${path}`
}

/** A redirect target: trimmed; a full URL is kept as is, anything else is a path on the shop. */
export const normalizeRedirectTarget = (raw: string): string => {
  const target = raw.trim()
  if (target === "" || ABSOLUTE_URL.test(target)) return target
  return target.startsWith("/") ? target : `/${target}`
}

/** The comparison key of a path (paths match case-insensitively). */
const pathKey = (path: string): string => path.toLowerCase()

/** A shop's redirects, in creation (id) order. Ids start at 1 and are never reused. */
export class UrlRedirects {
  readonly #byId = new Map<number, UrlRedirectRecord>()
  #nextId = 1

  /** Every redirect, oldest first. */
  list(): ReadonlyArray<UrlRedirectRecord> {
    return [...this.#byId.values()]
  }

  get(id: number): UrlRedirectRecord | undefined {
    return this.#byId.get(id)
  }

  /** The redirect with this path (normalized, case-insensitive), if any. */
  byPath(path: string): UrlRedirectRecord | undefined {
    const key = pathKey(normalizeRedirectPath(path))
    for (const r of this.#byId.values()) if (pathKey(r.path) === key) return r
    return undefined
  }

  /** Stores a redirect without validation (see `urlRedirectCreate`); returns it. */
  add(path: string, target: string, now: number): UrlRedirectRecord {
    const id = this.#nextId++
    const record: UrlRedirectRecord = {
      __typename: "UrlRedirect",
      id,
      gid: gid("UrlRedirect", id),
      path: normalizeRedirectPath(path),
      target: normalizeRedirectTarget(target),
      createdAt: now
    }
    this.#byId.set(id, record)
    return record
  }

  /** Replaces a redirect's path and target (no validation). */
  replace(id: number, path: string, target: string): UrlRedirectRecord {
    const existing = this.#byId.get(id)
    if (existing === undefined) throw new Error(`no url redirect ${id}`)
    const record: UrlRedirectRecord = { ...existing, path: normalizeRedirectPath(path), target: normalizeRedirectTarget(target) }
    this.#byId.set(id, record)
    return record
  }

  /** Deletes a redirect; returns whether it existed. */
  remove(id: number): boolean {
    return this.#byId.delete(id)
  }
}

/** Validates a redirect's final path and target (`self`: the redirect being updated). */
const validate = (
  store: UrlRedirects,
  path: string,
  target: string,
  self: number | undefined,
  code: "CREATE_FAILED" | "UPDATE_FAILED"
): Array<UrlRedirectUserError> => {
  const errors: Array<UrlRedirectUserError> = []
  const fail = (field: "path" | "target", message: string) => errors.push({ field: ["urlRedirect", field], message, code })
  if (path === "") fail("path", "Path can't be blank")
  else if (path.length > MAX_REDIRECT_PATH_LENGTH) fail("path", `Path is too long (maximum is ${MAX_REDIRECT_PATH_LENGTH} characters)`)
  else {
    const holder = store.byPath(path)
    if (holder !== undefined && holder.id !== self) fail("path", "Path has already been taken")
  }
  if (target === "") fail("target", "Target can't be blank")
  else if (target.length > MAX_REDIRECT_TARGET_LENGTH) fail("target", `Target is too long (maximum is ${MAX_REDIRECT_TARGET_LENGTH} characters)`)
  // A redirect to itself would loop forever on the storefront.
  else if (path !== "" && pathKey(target) === pathKey(path)) fail("target", "Target cannot be the same as path")
  return errors
}

/** `UrlRedirectCreatePayload` / `UrlRedirectUpdatePayload`. */
export interface UrlRedirectPayload {
  readonly urlRedirect: UrlRedirectRecord | null
  readonly userErrors: ReadonlyArray<UrlRedirectUserError>
}

/**
 * Runs `urlRedirectCreate(urlRedirect:)`. Not idempotent by design, as on Shopify: creating
 * a redirect for a path that already has one fails with "Path has already been taken", so
 * a caller that retries must look the path up (`urlRedirects(query: "path:…")`) first.
 */
export const urlRedirectCreate = (store: UrlRedirects, input: UrlRedirectInput, now: number): UrlRedirectPayload => {
  const path = normalizeRedirectPath(input.path ?? "")
  const target = normalizeRedirectTarget(input.target ?? "")
  const userErrors = validate(store, path, target, undefined, "CREATE_FAILED")
  if (userErrors.length > 0) return { urlRedirect: null, userErrors }
  return { urlRedirect: store.add(path, target, now), userErrors: [] }
}

const doesNotExist = (): UrlRedirectUserError => ({ field: ["id"], message: "Redirect does not exist", code: "DOES_NOT_EXIST" })

/** Runs `urlRedirectUpdate(id:, urlRedirect:)`: omitted (or null) fields keep their value. */
export const urlRedirectUpdate = (store: UrlRedirects, id: string, input: UrlRedirectInput): UrlRedirectPayload => {
  const n = gidNumber(id, "UrlRedirect")
  const existing = n === undefined ? undefined : store.get(n)
  if (existing === undefined) return { urlRedirect: null, userErrors: [doesNotExist()] }
  const path = input.path === undefined || input.path === null ? existing.path : normalizeRedirectPath(input.path)
  const target = input.target === undefined || input.target === null ? existing.target : normalizeRedirectTarget(input.target)
  const userErrors = validate(store, path, target, existing.id, "UPDATE_FAILED")
  if (userErrors.length > 0) return { urlRedirect: null, userErrors }
  return { urlRedirect: store.replace(existing.id, path, target), userErrors: [] }
}

/** Runs `urlRedirectDelete(id:)`; an unknown id is a `DOES_NOT_EXIST` userError. */
export const urlRedirectDelete = (
  store: UrlRedirects,
  id: string
): { readonly deletedUrlRedirectId: string | null; readonly userErrors: ReadonlyArray<UrlRedirectUserError> } => {
  const n = gidNumber(id, "UrlRedirect")
  if (n === undefined || !store.remove(n)) return { deletedUrlRedirectId: null, userErrors: [doesNotExist()] }
  return { deletedUrlRedirectId: gid("UrlRedirect", n), userErrors: [] }
}
