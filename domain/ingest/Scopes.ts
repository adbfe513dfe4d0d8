/**
 * What an API key may be granted, and the checks on a new key's request. Pure.
 *
 * Scopes are `resource:action` permissions from the access-control catalog
 * (`domain/access/Permissions.ts`): the public ingest API needs `events:write`; operator keys
 * carry a role (its permissions) and/or extra scopes.
 */
import { isPermission, isRole, PERMISSIONS, type Permission, type Role, ROLES } from "../access/Permissions.ts"

/** Send events to `POST /api/v1/events`. */
export const EVENTS_WRITE: Permission = "events:write"

export const MAX_KEY_NAME_LENGTH = 100

export interface ApiKeyRequest {
  readonly shop: string
  readonly name: string
  readonly scopes: ReadonlyArray<Permission>
  readonly role: Role | null
}

/**
 * Checks a key request and normalizes it (name trimmed, scopes deduplicated and sorted).
 * Returns every problem at once, as sentences.
 */
export const checkApiKeyRequest = (
  input: { readonly shop: string; readonly name: string; readonly scopes: ReadonlyArray<string>; readonly role?: string | null | undefined },
  isShop: (shop: string) => boolean
): { readonly _tag: "Valid"; readonly request: ApiKeyRequest } | { readonly _tag: "Invalid"; readonly problems: ReadonlyArray<string> } => {
  const problems: Array<string> = []
  if (!isShop(input.shop)) problems.push(`shop must be a *.myshopify.com domain (got ${JSON.stringify(input.shop)})`)
  const name = input.name.trim()
  if (name === "" || name.length > MAX_KEY_NAME_LENGTH) problems.push(`name must be 1 to ${MAX_KEY_NAME_LENGTH} characters`)
  const requested = [...new Set(input.scopes.map((s) => s.trim()).filter((s) => s !== ""))].sort()
  const unknown = requested.filter((s) => !isPermission(s))
  if (unknown.length > 0) problems.push(`unknown scope(s) ${unknown.join(", ")}; known: ${PERMISSIONS.join(", ")}`)
  const role = input.role === undefined || input.role === null || input.role === "" ? null : input.role
  if (role !== null && !isRole(role)) problems.push(`role must be one of ${ROLES.join(", ")} (got ${JSON.stringify(role)})`)
  if (requested.length === 0 && role === null) problems.push("a key needs at least one scope or a role")
  if (problems.length > 0) return { _tag: "Invalid", problems }
  return {
    _tag: "Valid",
    request: { shop: input.shop, name, scopes: requested.filter(isPermission), role: role !== null && isRole(role) ? role : null }
  }
}
