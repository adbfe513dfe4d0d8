/**
 * Admin API access control over real HTTP on PostgreSQL 15: every role against every declared
 * admin route (table-driven from `ADMIN_ROUTES` and the role matrix, so a new route is covered
 * as soon as it is declared), API-key principals and their scopes, delegation that never
 * escalates (members and new keys), the last owner, 401 for unknown credentials and shops, and
 * the per-shop limit of 100 requests a minute (429 with Retry-After; the limiter's clock is moved,
 * nothing sleeps).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConfigProvider, Effect, Exit } from "effect"
import { Hono } from "hono"
import { permissionsOf, PERMISSIONS, type Role, ROLES } from "../../domain/access/Permissions.ts"
import { AdminDefaultRole, makeAdminGuard, mountAdminRoute } from "../../adapters/http/AdminAuth.ts"
import { ADMIN_ROUTES, type AdminRoute, AdminRoutes } from "../../adapters/http/AdminRouteCatalog.ts"
import { type AdminApi, type AdminServer, sampleBody, sessionFor, startAdminApi, withCatalogParams } from "../support/adminApi.ts"

const SHOP = "rbac-alpha.myshopify.com"
const OTHER = "rbac-beta.myshopify.com"
const UNINSTALLED = "rbac-gone.myshopify.com"

const routeName = (r: AdminRoute) => `${r.method} ${r.path}`

/** Ids that name nothing, by the kind of resource a path parameter names. */
const MISSING_IDS: Record<string, string> = {
  job: "00000000-0000-7000-8000-000000000000",
  member: "nobody-at-all",
  api_key: "000000000000",
  privacy_export: "00000000-0000-8000-8000-000000000000",
  rule: "00000000-0000-7000-8000-00000000ru1e",
  execution: "no-such-trigger_no-such-rule_0",
  approval: "no-such-trigger_no-such-rule_1",
  webhook_subscription: "00000000-0000-7000-8000-0000000000sb",
  webhook_delivery: "00000000-0000-5000-8000-000000000dd1",
  order: "no-such-order"
}

/** A path with every parameter filled in: `ids` by resource kind, else a fresh missing id. */
const pathFor = (route: AdminRoute, tag: string, ids: Record<string, string> = MISSING_IDS): string =>
  withCatalogParams(route).replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const kind = route.params[name]
    if (kind === undefined) throw new Error(`${routeName(route)}: parameter ${name} is not described in params`)
    // an upsert creates what it names: give each caller its own target
    if (route.upsert === true) return `target-${tag}`
    const id = ids[kind]
    if (id === undefined) throw new Error(`${routeName(route)}: no test id for a ${kind}; add one to MISSING_IDS`)
    return id
  })

/** What an allowed caller gets for `pathFor`'s ids: missing ids are 404, upserts 200, creations 201. */
const allowedStatus = (route: AdminRoute): number =>
  route.upsert === true ? 200 : Object.keys(route.params).length > 0 ? 404 : route.accepted === true ? 202 : route.method === "POST" && route.computes !== true ? 201 : 200

let api: AdminApi
let server: AdminServer

beforeAll(async () => {
  api = await startAdminApi({ knownShops: [SHOP, OTHER], automationActors: true })
  // the default role of unlisted staff is viewer here, so that an admin may manage them
  server = await api.serveAdmin({ defaultRole: "viewer" })
  for (const role of ROLES) await api.setMember(SHOP, `${role}-user`, role)
  await api.setMember(OTHER, "owner-user", "owner")
})

afterAll(async () => {
  await api?.close()
})

/** A full bucket for every shop: the role matrix makes more than 100 requests. */
const refill = () => {
  api.clock.now += 60_000
}

describe("admin RBAC over HTTP on PostgreSQL 15", () => {
  it("every role gets exactly its permissions on every declared admin route (403 naming the permission otherwise)", async () => {
    for (const role of ROLES) {
      refill()
      const token = sessionFor(SHOP, `${role}-user`)
      for (const route of ADMIN_ROUTES) {
        const tag = `${role}-${route.method}`
        const res = await api.call(server, route.method, pathFor(route, tag), token, sampleBody(route, tag))
        const where = `${role} → ${routeName(route)} (${res.text.slice(0, 200)})`
        if (permissionsOf(role).has(route.permission)) {
          expect(res.status, where).toBe(allowedStatus(route))
        } else {
          expect(res.status, where).toBe(403)
          expect(res.json.error, where).toEqual({
            code: "FORBIDDEN",
            missing: [route.permission],
            message: `this requires the ${route.permission} permission`
          })
        }
        expect(res.headers.get("x-ratelimit-limit"), where).toBe("100")
      }
    }
  })

  it("GET /app/me shows the principal: a listed member's role, the default role for anyone else", async () => {
    refill()
    const me = await api.call(server, "GET", "/app/me", sessionFor(SHOP, "operator-user"))
    expect(me.status).toBe(200)
    expect(me.json).toEqual({
      shop: SHOP,
      plan: "free",
      time_zone: "UTC",
      principal: { kind: "session", subject: "operator-user", role: "operator" },
      permissions: PERMISSIONS.filter((p) => permissionsOf("operator").has(p))
    })
    const stranger = await api.call(server, "GET", "/app/me", sessionFor(SHOP, "never-listed"))
    expect(stranger.json.principal.role).toBe("viewer")
    // the same user id is another shop's business: its own role there
    const elsewhere = await api.call(server, "GET", "/app/me", sessionFor(OTHER, "operator-user"))
    expect([elsewhere.json.shop, elsewhere.json.principal.role]).toEqual([OTHER, "viewer"])
  })

  it("without ADMIN_DEFAULT_ROLE, unlisted staff are owners (Shopify decides who opens the app); listed staff keep their role", async () => {
    const defaults = await api.serveAdmin({ defaultRole: undefined })
    const unlisted = await api.call(defaults, "GET", "/app/me", sessionFor(SHOP, "someone-new"))
    expect(unlisted.json.principal.role).toBe("owner")
    expect(unlisted.json.permissions).toEqual(PERMISSIONS)
    const listed = await api.call(defaults, "GET", "/app/me", sessionFor(SHOP, "analyst-user"))
    expect(listed.json.principal.role).toBe("analyst")
  })

  it("ADMIN_DEFAULT_ROLE: owner when unset, one of the roles, anything else refused at start", () => {
    const read = (env: Record<string, string>) => Effect.runSyncExit(AdminDefaultRole.parse(ConfigProvider.fromEnvRecord(env)))
    expect(read({})).toEqual(Exit.succeed("owner"))
    expect(read({ ADMIN_DEFAULT_ROLE: "viewer" })).toEqual(Exit.succeed("viewer"))
    expect(Exit.isFailure(read({ ADMIN_DEFAULT_ROLE: "root" }))).toBe(true)
  })

  it("an API key acts with its role's permissions plus its scopes; an ingest-only key gets no admin route", async () => {
    refill()
    const operatorish = await api.createKey(SHOP, "viewer plus undo", ["jobs:undo"], "viewer")
    const me = await api.call(server, "GET", "/app/me", operatorish.key)
    expect(me.status).toBe(200)
    expect(me.json.principal).toEqual({ kind: "api_key", subject: operatorish.keyId, role: "viewer" })
    expect(me.json.permissions).toEqual(["shop:read", "jobs:read", "jobs:undo", "audit:read", "automation:read"])
    const undo = await api.call(server, "POST", `/app/jobs/${MISSING_IDS["job"]}/undo`, operatorish.key)
    expect(undo.status).toBe(404)
    const members = await api.call(server, "GET", "/app/members", operatorish.key)
    expect([members.status, members.json.error.missing]).toEqual([403, ["members:read"]])

    const ingest = await api.createKey(SHOP, "storefront ingest", ["events:write"])
    for (const route of ADMIN_ROUTES) {
      const res = await api.call(server, route.method, pathFor(route, "ingest"), ingest.key, sampleBody(route, "ingest"))
      expect(res.status, routeName(route)).toBe(403)
    }
  })

  it("401: no credential, an unknown, forged or revoked key, and a valid credential for a shop that is not installed", async () => {
    refill()
    const revoked = await api.createKey(SHOP, "soon revoked", [], "viewer")
    expect((await api.call(server, "GET", "/app/me", revoked.key)).status).toBe(200)
    const owner = sessionFor(SHOP, "owner-user")
    expect((await api.call(server, "DELETE", `/app/api-keys/${revoked.keyId}`, owner)).status).toBe(204)
    const live = await api.createKey(SHOP, "live", [], "viewer")
    const gone = await api.createKey(UNINSTALLED, "uninstalled shop", [], "owner")
    const cases: ReadonlyArray<readonly [string, string | undefined, string]> = [
      ["no credential", undefined, "MISSING_TOKEN"],
      ["unknown key", `sk_0123456789ab_${"A".repeat(43)}`, "UNKNOWN_API_KEY"],
      ["known key id, forged secret", `sk_${live.keyId}_${"B".repeat(43)}`, "UNKNOWN_API_KEY"],
      ["malformed key", "sk_nonsense", "UNKNOWN_API_KEY"],
      ["revoked key", revoked.key, "UNKNOWN_API_KEY"],
      ["session for an uninstalled shop", sessionFor(UNINSTALLED, "owner-user"), "UNKNOWN_SHOP"],
      ["key of an uninstalled shop", gone.key, "UNKNOWN_SHOP"],
      ["session signed with another secret", sessionFor(SHOP, "owner-user", { appSecret: "not-the-secret" }), "BAD_SIGNATURE"]
    ]
    for (const [name, credential, reason] of cases) {
      for (const route of [AdminRoutes.me, AdminRoutes.listApiKeys]) {
        const res = await api.call(server, route.method, route.path, credential)
        expect(res.status, `${name} on ${route.path}`).toBe(401)
        expect(res.json.error.code, name).toBe("UNAUTHORIZED")
        expect(res.json.error.reason, name).toBe(reason)
        expect(res.json.api_keys, name).toBeUndefined()
      }
    }
  })

  it("a new API key never carries a permission its creator lacks, and is shown once", async () => {
    refill()
    const admin = sessionFor(SHOP, "admin-user")
    const tooMuch = await api.call(server, "POST", "/app/api-keys", admin, { name: "escalate", scopes: [], role: "owner" })
    expect(tooMuch.status).toBe(403)
    expect(tooMuch.json.error.missing).toEqual(["owners:manage"])
    const scoped = await api.call(server, "POST", "/app/api-keys", admin, { name: "escalate", scopes: ["owners:manage", "jobs:read"] })
    expect([scoped.status, scoped.json.error.missing]).toEqual([403, ["owners:manage"]])
    // an API key is held to the same rule
    const adminKey = await api.createKey(SHOP, "admin key", [], "admin")
    const viaKey = await api.call(server, "POST", "/app/api-keys", adminKey.key, { name: "escalate", role: "owner" })
    expect([viaKey.status, viaKey.json.error.missing]).toEqual([403, ["owners:manage"]])

    const created = await api.call(server, "POST", "/app/api-keys", admin, { name: "  CI deploys  ", scopes: ["jobs:undo", "events:write"], role: "viewer" })
    expect(created.status).toBe(201)
    expect(created.headers.get("cache-control")).toBe("no-store")
    expect(created.json).toMatchObject({ name: "CI deploys", scopes: ["events:write", "jobs:undo"], role: "viewer" })
    expect(created.json.key).toMatch(new RegExp(`^sk_${created.json.id}_`))
    const me = await api.call(server, "GET", "/app/me", created.json.key)
    expect(me.json.permissions).toEqual(["shop:read", "jobs:read", "jobs:undo", "audit:read", "events:write", "automation:read"])
    const listed = await api.call(server, "GET", "/app/api-keys", admin)
    expect(listed.status).toBe(200)
    expect(listed.json.api_keys.map((k: { id: string }) => k.id)).toContain(created.json.id)
    expect(listed.text).not.toContain(created.json.key)
    // the secret is everything after `sk_<id>_` (it may itself contain "_")
    expect(listed.text).not.toContain(created.json.key.slice(`sk_${created.json.id}_`.length))

    const invalid: ReadonlyArray<readonly [unknown, RegExp]> = [
      [{ name: "x", scopes: ["jobs:delete"] }, /unknown scope/],
      [{ name: "x", role: "root" }, /role must be one of/],
      [{ name: "", role: "viewer" }, /name must be/],
      [{ name: "x" }, /at least one scope or a role/],
      [{ scopes: ["jobs:read"] }, /the body must be/],
      [[1, 2], /the body must be/]
    ]
    for (const [body, message] of invalid) {
      const res = await api.call(server, "POST", "/app/api-keys", admin, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.json.error.code).toBe("INVALID_REQUEST_BODY")
      expect(res.json.error.message).toMatch(message)
    }
    const res = await fetch(`${server.url}/app/api-keys`, { method: "POST", headers: { authorization: `Bearer ${admin}` }, body: "{not json" })
    expect(res.status).toBe(400)
  })

  it("members: only roles the caller holds can be given or taken, removal falls back to the default role, the last owner stays", async () => {
    refill()
    const owner = sessionFor(SHOP, "owner-user")
    const admin = sessionFor(SHOP, "admin-user")
    // an admin can manage the roles below owner…
    const promoted = await api.call(server, "PUT", "/app/members/staff-1", admin, { role: "operator" })
    expect(promoted.status).toBe(200)
    expect(promoted.json.member).toMatchObject({ user_id: "staff-1", role: "operator", updated_by: "admin-user" })
    expect((await api.call(server, "GET", "/app/me", sessionFor(SHOP, "staff-1"))).json.principal.role).toBe("operator")
    // …but cannot make an owner, nor touch one
    const grant = await api.call(server, "PUT", "/app/members/staff-1", admin, { role: "owner" })
    expect([grant.status, grant.json.error.missing]).toEqual([403, ["owners:manage"]])
    const demote = await api.call(server, "PUT", "/app/members/owner-user", admin, { role: "viewer" })
    expect([demote.status, demote.json.error.missing]).toEqual([403, ["owners:manage"]])
    expect((await api.call(server, "DELETE", "/app/members/owner-user", admin)).status).toBe(403)
    // an owner can; the last owner cannot be demoted or removed
    expect((await api.call(server, "PUT", "/app/members/staff-1", owner, { role: "owner" })).status).toBe(200)
    expect((await api.call(server, "PUT", "/app/members/staff-1", owner, { role: "admin" })).status).toBe(200)
    const last = await api.call(server, "PUT", "/app/members/owner-user", owner, { role: "admin" })
    expect(last.status).toBe(409)
    expect(last.json.error.code).toBe("LAST_OWNER")
    expect((await api.call(server, "DELETE", "/app/members/owner-user", owner)).status).toBe(409)
    expect((await api.call(server, "GET", "/app/me", owner)).json.principal.role).toBe("owner")
    // removal: the member falls back to the default role (viewer here)
    expect((await api.call(server, "DELETE", "/app/members/staff-1", admin)).status).toBe(204)
    expect((await api.call(server, "GET", "/app/me", sessionFor(SHOP, "staff-1"))).json.principal.role).toBe("viewer")
    expect((await api.call(server, "DELETE", "/app/members/staff-1", admin)).status).toBe(404)
    const list = await api.call(server, "GET", "/app/members", admin)
    expect(list.json.default_role).toBe("viewer")
    expect(list.json.members.map((m: { user_id: string; role: Role }) => [m.user_id, m.role])).toEqual(
      expect.arrayContaining([["owner-user", "owner"], ["admin-user", "admin"]])
    )
    expect(list.json.members.some((m: { user_id: string }) => m.user_id === "staff-1")).toBe(false)
    // bad input
    const badRole = await api.call(server, "PUT", "/app/members/staff-2", owner, { role: "superuser" })
    expect([badRole.status, badRole.json.error.code]).toEqual([400, "INVALID_REQUEST_BODY"])
    const badId = await api.call(server, "PUT", `/app/members/${encodeURIComponent("a b")}`, owner, { role: "viewer" })
    expect([badId.status, badId.json.error.code]).toEqual([400, "INVALID_PATH_PARAMETER"])
  })

  it("two owners demoting each other at once: exactly one succeeds, the shop keeps an owner", async () => {
    refill()
    await api.setMember(OTHER, "co-owner", "owner")
    const [a, b] = await Promise.all([
      api.call(server, "PUT", "/app/members/co-owner", sessionFor(OTHER, "owner-user"), { role: "viewer" }),
      api.call(server, "PUT", "/app/members/owner-user", sessionFor(OTHER, "co-owner"), { role: "viewer" })
    ])
    // the loser is refused as the last owner (409), or, authenticated after the winner's
    // commit, as a viewer who may not manage members (403)
    const statuses = [a.status, b.status].sort()
    expect(statuses[0]).toBe(200)
    expect([403, 409]).toContain(statuses[1])
    const list = await api.call(server, "GET", "/app/members", sessionFor(OTHER, a.status === 200 ? "owner-user" : "co-owner"))
    expect(list.json.members.filter((m: { role: string }) => m.role === "owner")).toHaveLength(1)
  })

  it("the 101st request in a minute is a 429 with Retry-After; another shop is unaffected; the bucket refills", async () => {
    refill()
    const token = sessionFor(SHOP, "viewer-user")
    for (let i = 1; i <= 100; i++) {
      const res = await api.call(server, "GET", "/app/me", token)
      expect(res.status, `request ${i}`).toBe(200)
      expect(res.headers.get("x-ratelimit-remaining"), `request ${i}`).toBe(String(100 - i))
    }
    const limited = await api.call(server, "GET", "/app/me", token)
    expect(limited.status).toBe(429)
    expect(limited.headers.get("retry-after")).toBe("1")
    expect(limited.headers.get("x-ratelimit-limit")).toBe("100")
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0")
    expect(limited.json.error).toMatchObject({ code: "RATE_LIMITED", retry_after_seconds: 1 })
    // the limit is the shop's, whatever the credential or route
    const key = await api.createKey(SHOP, "limited too", [], "viewer")
    expect((await api.call(server, "GET", "/app/jobs", key.key)).status).toBe(429)
    expect((await api.call(server, "GET", "/app/jobs", sessionFor(SHOP, "owner-user"))).status).toBe(429)
    // another shop has its own bucket
    const other = await api.call(server, "GET", "/app/me", sessionFor(OTHER, "owner-user"))
    expect(other.status).toBe(200)
    expect(other.headers.get("x-ratelimit-remaining")).toBe("99")
    // 100 per 60 s: one token is back after 600 ms
    api.clock.now += 599
    expect((await api.call(server, "GET", "/app/me", token)).status).toBe(429)
    api.clock.now += 1
    expect((await api.call(server, "GET", "/app/me", token)).status).toBe(200)
    expect((await api.call(server, "GET", "/app/me", token)).status).toBe(429)
  })

  it("no admin route can be mounted without being declared (and so without auth, rate limit and a permission)", () => {
    const app = new Hono()
    const guard = makeAdminGuard(api.run, { apiKey: "k", appSecret: "s" })
    const undeclared: AdminRoute = { method: "GET", path: "/app/secret", permission: "shop:read", summary: "x", params: {} }
    expect(() => mountAdminRoute(app, guard, undeclared, (c) => c.text("leak"))).toThrow(/not declared in ADMIN_ROUTES/)
    // a copy of a declared route is not the declaration either
    expect(() => mountAdminRoute(app, guard, { ...AdminRoutes.me }, (c) => c.text("leak"))).toThrow(/not declared/)
    expect(app.routes).toHaveLength(0)
  })
})
