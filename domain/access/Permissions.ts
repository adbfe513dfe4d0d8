/**
 * Who may do what in a shop's admin API (issue 5 §5): the permission catalog (`resource:action`),
 * the five roles and the principal a request acts as. Pure: the HTTP middleware
 * (`adapters/http/AdminAuth.ts`) establishes the principal, this module answers "may it?".
 *
 * The rules in one place:
 * - a role is a fixed set of permissions; owner ⊇ admin ⊇ (operator ∪ analyst) ⊇ viewer;
 * - a principal holds its role's permissions plus, for an API key, the key's extra scopes;
 * - delegation never escalates: a principal can only hand out (to a member or a new API key)
 *   permissions it holds itself ({@link missingPermissions}). `owners:manage` is the one
 *   permission an admin lacks, so only an owner can make, change or remove an owner.
 *
 * `domain/access/PERMISSIONS.md` is generated from this module ({@link permissionTableMarkdown});
 * a test fails when the file and the catalog differ.
 */

/** Every permission, in documentation order, with what it allows. */
export const PERMISSION_CATALOG = [
  { permission: "shop:read", description: "See the shop and your own access (`GET /app/me`)" },
  { permission: "jobs:read", description: "List jobs, read a job's timeline and download its failed lines (errors.jsonl)" },
  { permission: "jobs:create", description: "Start a bulk metafield job" },
  { permission: "jobs:undo", description: "Undo a completed job (a compensating job restores the previous values)" },
  { permission: "audit:read", description: "Read the plain-language audit log" },
  { permission: "events:read", description: "Read and replay the shop's raw event log" },
  { permission: "events:write", description: "Send events to the public ingest API (`POST /api/v1/events`)" },
  { permission: "projections:read", description: "See read-model (projection) status and lag" },
  { permission: "projections:rebuild", description: "Rebuild a read model from the event log" },
  { permission: "deadletters:read", description: "See messages that failed after every retry" },
  { permission: "deadletters:redrive", description: "Send dead-lettered messages through the shop's actor again" },
  { permission: "api_keys:read", description: "List the shop's API keys (never their secrets)" },
  { permission: "api_keys:manage", description: "Create and revoke API keys (never with permissions you lack)" },
  { permission: "members:read", description: "List the shop's members and their roles" },
  { permission: "members:manage", description: "Give members roles and remove them (only roles whose permissions you hold)" },
  { permission: "owners:manage", description: "Make a member an owner, or change or remove an owner" },
  { permission: "privacy:read", description: "Download customer data exports (GDPR data requests)" },
  { permission: "automation:read", description: "See the trigger catalog, rules, executions and approvals" },
  { permission: "automation:emit", description: "Emit a trigger by hand to test the shop's rules (recorded with you as its emitter)" },
  { permission: "automation:manage", description: "Create, change, enable, disable and delete the shop's automation rules" },
  { permission: "insights:read", description: "See attribution, SEO and ads findings, cohorts, lifetime value, recommendations and the detectors' settings" },
  { permission: "insights:manage", description: "Change the shop's detector settings (the thresholds of the SEO, ads, site audit and cart abandonment detectors)" },
  { permission: "ai:read", description: "See the AI gateway's usage: calls, tokens, cost and the month's spend against the budget" },
  { permission: "webhooks:read", description: "List the shop's outbound webhook subscriptions (never their secrets) and deliveries" },
  { permission: "webhooks:manage", description: "Create, rotate and delete outbound webhook subscriptions; redrive dead-lettered deliveries" }
] as const

export type Permission = typeof PERMISSION_CATALOG[number]["permission"]

export const PERMISSIONS: ReadonlyArray<Permission> = PERMISSION_CATALOG.map((p) => p.permission)

/** Roles from most to least powerful. */
export const ROLES = ["owner", "admin", "operator", "analyst", "viewer"] as const

export type Role = typeof ROLES[number]

const VIEWER: ReadonlyArray<Permission> = ["shop:read", "jobs:read", "audit:read", "automation:read"]
const ANALYST: ReadonlyArray<Permission> = [...VIEWER, "events:read", "projections:read", "insights:read", "ai:read"]
const OPERATOR: ReadonlyArray<Permission> = [
  ...VIEWER,
  "jobs:create",
  "jobs:undo",
  "projections:read",
  "projections:rebuild",
  "deadletters:read",
  "deadletters:redrive",
  "automation:emit",
  "automation:manage",
  "insights:read",
  "insights:manage",
  "ai:read",
  "webhooks:read",
  "webhooks:manage"
]
const ADMIN: ReadonlyArray<Permission> = PERMISSIONS.filter((p) => p !== "owners:manage")

/** What each role means, for the docs. */
export const ROLE_DESCRIPTIONS: { readonly [R in Role]: string } = {
  owner: "Everything, including making, changing and removing owners",
  admin: "Everything except managing owners: members, API keys, customer data exports, all operations",
  operator: "Viewer, plus running and undoing jobs, managing rules and emitting test triggers, the detectors' settings, AI usage, outbound webhooks, dead-letter redrive and projection rebuilds",
  analyst: "Viewer, plus the raw event log, projection status, the intelligence plane's findings and AI usage",
  viewer: "Read-only: the shop, jobs, automation and the audit log"
}

const ROLE_PERMISSIONS: { readonly [R in Role]: ReadonlySet<Permission> } = {
  owner: new Set(PERMISSIONS),
  admin: new Set(ADMIN),
  operator: new Set(OPERATOR),
  analyst: new Set(ANALYST),
  viewer: new Set(VIEWER)
}

const PERMISSION_SET: ReadonlySet<string> = new Set(PERMISSIONS)
const ROLE_SET: ReadonlySet<string> = new Set(ROLES)

export const isPermission = (value: unknown): value is Permission => typeof value === "string" && PERMISSION_SET.has(value)

export const isRole = (value: unknown): value is Role => typeof value === "string" && ROLE_SET.has(value)

/** The permissions a role grants. */
export const permissionsOf = (role: Role): ReadonlySet<Permission> => ROLE_PERMISSIONS[role]

/** Who a request acts as: a Shopify staff member (session token) or an operator API key. */
export interface Principal {
  /** The only shop the principal can see or change. */
  readonly shop: string
  readonly kind: "session" | "api_key"
  /** The Shopify user id (session) or the key id (API key). */
  readonly subject: string
  /** The role; null for an API key that has scopes only. */
  readonly role: Role | null
  /** The role's permissions plus an API key's scopes. */
  readonly permissions: ReadonlySet<Permission>
}

/**
 * A principal's permissions: its role's plus its extra scopes. Scopes that are not permissions
 * (a key minted before a permission was renamed) grant nothing.
 */
export const grantedPermissions = (role: Role | null, scopes: Iterable<string> = []): ReadonlySet<Permission> => {
  const granted = new Set<Permission>(role === null ? [] : permissionsOf(role))
  for (const scope of scopes) if (isPermission(scope)) granted.add(scope)
  return granted
}

export const can = (principal: Pick<Principal, "permissions">, permission: Permission): boolean =>
  principal.permissions.has(permission)

/**
 * The permissions in `wanted` that `principal` lacks, in catalog order: empty when it may hand
 * them all out (to a member's role or a new API key).
 */
export const missingPermissions = (
  principal: Pick<Principal, "permissions">,
  wanted: Iterable<Permission>
): ReadonlyArray<Permission> => {
  const want = new Set(wanted)
  return PERMISSIONS.filter((p) => want.has(p) && !principal.permissions.has(p))
}

/** `domain/access/PERMISSIONS.md`, generated so that the docs never drift from the catalog. */
export const permissionTableMarkdown = (): string => {
  const header = `| permission | allows | ${ROLES.join(" | ")} |`
  const rule = `|---|---|${ROLES.map(() => ":-:").join("|")}|`
  const rows = PERMISSION_CATALOG.map(({ description, permission }) =>
    `| \`${permission}\` | ${description} | ${ROLES.map((r) => (ROLE_PERMISSIONS[r].has(permission) ? "✓" : "")).join(" | ")} |`
  )
  const roles = ROLES.map((r) => `| \`${r}\` | ${ROLE_DESCRIPTIONS[r]} |`)
  return [
    "# Admin permissions and roles",
    "",
    "<!-- Generated from domain/access/Permissions.ts by permissionTableMarkdown(); do not edit by hand.",
    "     Regenerate: npx vitest run test/domain/access/permissions.test.ts -u -->",
    "",
    "Every admin API route requires one permission (`resource:action`). A request acts as a",
    "principal: a Shopify staff member (App Bridge session token; role from the shop's members,",
    "else `ADMIN_DEFAULT_ROLE`) or an operator API key (`Authorization: Bearer sk_…`; its role's",
    "permissions plus its scopes). Missing permission: 403. Another shop's resources: 404.",
    "Nobody can give a member or a new API key a permission they do not hold themselves.",
    "",
    "## Roles",
    "",
    "| role | can |",
    "|---|---|",
    ...roles,
    "",
    "## Permissions",
    "",
    header,
    rule,
    ...rows,
    ""
  ].join("\n")
}
