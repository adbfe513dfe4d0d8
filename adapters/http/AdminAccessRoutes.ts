/**
 * Who may use a shop's admin API (issue 5 §5), managed through the admin API itself:
 * - `GET /app/me`: the caller's principal and permissions (what the UI may offer);
 * - `GET /app/members`, `PUT /app/members/:userId` `{ role }`, `DELETE /app/members/:userId`:
 *   the roles of the shop's Shopify staff (`shop_members`; unlisted staff get the default role);
 * - `GET /app/api-keys`, `POST /app/api-keys` `{ name, scopes, role? }` (201 with the key, shown
 *   once), `DELETE /app/api-keys/:keyId`: operator and ingest API keys (the `ApiKeys` port).
 *
 * Delegation never escalates: a member's role can only be changed from and to roles whose
 * permissions the caller holds, and a new key can only carry permissions the caller holds (403
 * naming what is missing). Removing a member counts as giving them the default role. A shop that
 * has owners always keeps one: demoting or removing the last listed owner is a 409 `LAST_OWNER`.
 * Membership changes of one shop are serialized (a transaction-scoped advisory lock), so two
 * owners demoting each other at once cannot both succeed.
 *
 * Everything runs as the tenant (row-level security): another shop's member or key is a 404,
 * like one that does not exist.
 */
import { Effect, Result, Schema } from "effect"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { Hono } from "hono"
import {
  grantedPermissions,
  isRole,
  missingPermissions,
  PERMISSIONS,
  permissionsOf,
  type Principal,
  type Role,
  ROLES
} from "../../domain/access/Permissions.ts"
import { checkApiKeyRequest } from "../../domain/ingest/Scopes.ts"
import { isShopDomain } from "../../domain/shop/ShopDomain.ts"
import type { ApiKeys } from "../../src/access/ApiKeys.ts"
import { shopAutomationContext } from "../../src/automation/ShopDefaults.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { RunEffect } from "./RunEffect.ts"
import { asTenant } from "../postgres/Tenancy.ts"
import {
  type AdminGuard,
  Conflict,
  Forbidden,
  InvalidPathParameter,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  readJsonBody,
  requirePrincipal,
  requireShop,
  ResourceNotFound,
  runAdminEffect
} from "./AdminAuth.ts"
import { isoTimestamp } from "./AdminJobRoutes.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"

export interface AdminAccessOptions {
  /** The `ApiKeys` port (`PgApiKeys`). */
  readonly apiKeys: ApiKeys["Service"]
}

/** Shopify user ids are numbers; allow any short, plain token (other identity providers). */
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/
const MAX_ID_LENGTH = 200

const decodeSetMember = Schema.decodeUnknownResult(Schema.Struct({ role: Schema.String }))
const decodeCreateKey = Schema.decodeUnknownResult(Schema.Struct({
  name: Schema.String,
  scopes: Schema.optionalKey(Schema.Array(Schema.String)),
  role: Schema.optionalKey(Schema.NullOr(Schema.String))
}))

const invalidRole = (role: string) =>
  new InvalidRequestBody({ message: `role ${JSON.stringify(role)} is not one of ${ROLES.join(", ")}` })

const notDelegable = (missing: ReadonlyArray<string>, what: string) =>
  new Forbidden({ missing, message: `${what} needs permissions you do not hold: ${missing.join(", ")}` })

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

export interface MemberView {
  readonly user_id: string
  readonly role: Role
  readonly updated_at: string
  readonly updated_by: string | null
}

interface MemberRow {
  readonly user_id: string
  readonly role: Role
  readonly updated_at: Date
  readonly updated_by: string | null
}

const memberView = (row: MemberRow): MemberView => ({
  user_id: row.user_id,
  role: row.role,
  updated_at: isoTimestamp(row.updated_at),
  updated_by: row.updated_by
})

/** `GET /app/members`: every listed member of the shop. */
export const listMembers = (shop: string): Effect.Effect<ReadonlyArray<MemberView>, SqlError, SqlClient.SqlClient> =>
  asTenant(
    shop,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<MemberRow>`
        SELECT user_id, role, updated_at, updated_by FROM shop_members WHERE shop = ${shop} ORDER BY user_id`
      return rows.map(memberView)
    })
  )

/**
 * Gives `userId` the role `to` in the actor's shop, or removes them (`to` null: they fall back to
 * `defaultRole`). Atomic, serialized per shop, and never an escalation (see the module doc).
 */
export const changeMember = Effect.fn("AdminAccess.changeMember")(
  function*(
    actor: Principal,
    userId: string,
    to: Role | null,
    defaultRole: Role
  ): Effect.fn.Return<MemberView | null, ResourceNotFound | Forbidden | Conflict | SqlError, SqlClient.SqlClient> {
    const sql = yield* SqlClient.SqlClient
    const shop = actor.shop
    return yield* asTenant(
      shop,
      Effect.gen(function*() {
        // one membership change per shop at a time: the last-owner check below cannot race
        yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`sumeru.shop_members:${shop}`}))`
        const current = yield* sql<{ role: string }>`
          SELECT role FROM shop_members WHERE shop = ${shop} AND user_id = ${userId}`
        const listed = current[0]?.role
        const from: Role | null = isRole(listed) ? listed : null
        if (to === null && from === null) return yield* new ResourceNotFound({ resource: "member", id: userId })
        const before = from ?? defaultRole
        const after = to ?? defaultRole
        const missing = missingPermissions(actor, [...permissionsOf(before), ...permissionsOf(after)])
        if (missing.length > 0) {
          return yield* notDelegable(missing, `changing a member from ${before} to ${after}`)
        }
        if (from === "owner" && after !== "owner") {
          const others = yield* sql<{ n: number }>`
            SELECT count(*)::int AS n FROM shop_members WHERE shop = ${shop} AND role = 'owner' AND user_id <> ${userId}`
          if ((others[0]?.n ?? 0) === 0) {
            return yield* new Conflict({ code: "LAST_OWNER", message: `${userId} is the shop's last owner; make someone else an owner first` })
          }
        }
        if (to === null) {
          yield* sql`DELETE FROM shop_members WHERE shop = ${shop} AND user_id = ${userId}`
          return null
        }
        const rows = yield* sql<MemberRow>`
          INSERT INTO shop_members (shop, user_id, role, updated_at, updated_by)
          VALUES (${shop}, ${userId}, ${to}, now(), ${principalLabel(actor) || null})
          ON CONFLICT (shop, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
          RETURNING user_id, role, updated_at, updated_by`
        return memberView(rows[0]!)
      })
    )
  }
)

const memberId = (raw: string | undefined): Effect.Effect<string, InvalidPathParameter> =>
  raw !== undefined && USER_ID.test(raw)
    ? Effect.succeed(raw)
    : Effect.fail(new InvalidPathParameter({ parameter: "userId", message: "userId must be a Shopify user id (up to 128 letters, digits and ._:@-)" }))

// ---------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------

export interface ApiKeyView {
  readonly id: string
  readonly name: string
  readonly scopes: ReadonlyArray<string>
  readonly role: string | null
  readonly created_at: string
  readonly revoked_at: string | null
  readonly last_used_at: string | null
}

const timestampOrNull = (d: Date | null): string | null => (d === null ? null : isoTimestamp(d))

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

/** Mounts `/app/me`, `/app/members…` and `/app/api-keys…` behind the process's admin guard. */
export const mountAdminAccessRoutes = (app: Hono, run: RunEffect<SqlClient.SqlClient | EventStore>, guard: AdminGuard, options: AdminAccessOptions): void => {
  const { apiKeys } = options

  mountAdminRoute(app, guard, AdminRoutes.me, (c) => {
    const principal = requirePrincipal(c)
    return runAdminEffect(run, c, shopAutomationContext(principal.shop), (shop) =>
      c.json({
        shop: principal.shop,
        plan: shop.plan,
        time_zone: shop.timeZone,
        principal: { kind: principal.kind, subject: principal.subject, role: principal.role },
        permissions: PERMISSIONS.filter((p) => principal.permissions.has(p))
      }))
  })

  mountAdminRoute(app, guard, AdminRoutes.listMembers, (c) =>
    runAdminEffect(run, c, listMembers(requireShop(c)), (members) => c.json({ members, default_role: guard.defaultRole })))

  mountAdminRoute(app, guard, AdminRoutes.setMember, (c) => {
    const principal = requirePrincipal(c)
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const userId = yield* memberId(c.req.param("userId"))
        const body = decodeSetMember(yield* readJsonBody(c))
        if (Result.isFailure(body)) return yield* new InvalidRequestBody({ message: `the body must be { "role": string }: ${body.failure.message}` })
        const role = body.success.role
        if (!isRole(role)) return yield* invalidRole(role)
        return yield* changeMember(principal, userId, role, guard.defaultRole)
      }),
      (member) => c.json({ member })
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.removeMember, (c) => {
    const principal = requirePrincipal(c)
    const userId = c.req.param("userId") ?? ""
    return runAdminEffect(
      run,
      c,
      USER_ID.test(userId)
        ? changeMember(principal, userId, null, guard.defaultRole)
        : Effect.fail(new ResourceNotFound({ resource: "member", id: userId.slice(0, MAX_ID_LENGTH) })),
      () => c.body(null, 204)
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.listApiKeys, (c) =>
    runAdminEffect(run, c, apiKeys.list(requireShop(c)), (keys) =>
      c.json({
        api_keys: keys.map((k): ApiKeyView => ({
          id: k.keyId,
          name: k.name,
          scopes: k.scopes,
          role: k.role,
          created_at: isoTimestamp(k.createdAt),
          revoked_at: timestampOrNull(k.revokedAt),
          last_used_at: timestampOrNull(k.lastUsedAt)
        }))
      })))

  mountAdminRoute(app, guard, AdminRoutes.createApiKey, (c) => {
    const principal = requirePrincipal(c)
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const body = decodeCreateKey(yield* readJsonBody(c))
        if (Result.isFailure(body)) {
          return yield* new InvalidRequestBody({
            message: `the body must be { "name": string, "scopes"?: string[], "role"?: string | null }: ${body.failure.message}`
          })
        }
        // the port's own rules (name, known scopes, role), checked before the permissions
        const checked = checkApiKeyRequest({ ...body.success, scopes: body.success.scopes ?? [], shop: principal.shop }, isShopDomain)
        if (checked._tag === "Invalid") return yield* new InvalidRequestBody({ message: checked.problems.join("; ") })
        const { name, role, scopes } = checked.request
        const missing = missingPermissions(principal, grantedPermissions(role, scopes))
        if (missing.length > 0) return yield* notDelegable(missing, "this key")
        const created = yield* apiKeys.create({ shop: principal.shop, name, scopes, role }).pipe(
          Effect.catchTag("InvalidApiKeyRequest", (e) => Effect.fail(new InvalidRequestBody({ message: e.message })))
        )
        return { id: created.keyId, key: created.key, name, scopes, role }
      }),
      // the secret is in this response only: no cache may keep it
      (created) => c.json(created, 201, { "Cache-Control": "no-store" })
    )
  })

  mountAdminRoute(app, guard, AdminRoutes.revokeApiKey, (c) => {
    const shop = requireShop(c)
    const keyId = c.req.param("keyId") ?? ""
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const revoked = keyId.length > 0 && keyId.length <= MAX_ID_LENGTH && (yield* apiKeys.revoke(shop, keyId))
        if (!revoked) return yield* new ResourceNotFound({ resource: "api key", id: keyId.slice(0, MAX_ID_LENGTH) })
      }),
      () => c.body(null, 204)
    )
  })
}
