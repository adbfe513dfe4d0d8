import { describe, expect, it } from "vitest"
import {
  can,
  grantedPermissions,
  isPermission,
  isRole,
  missingPermissions,
  PERMISSION_CATALOG,
  permissionsOf,
  PERMISSIONS,
  permissionTableMarkdown,
  type Principal,
  ROLES
} from "../../../domain/access/Permissions.ts"

const subset = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].every((p) => b.has(p))

describe("permission catalog and roles", () => {
  it("every permission is resource:action, listed once, with a description", () => {
    for (const { description, permission } of PERMISSION_CATALOG) {
      expect(permission).toMatch(/^[a-z_]+:[a-z_]+$/)
      expect(description.length).toBeGreaterThan(10)
    }
    expect(new Set(PERMISSIONS).size).toBe(PERMISSIONS.length)
  })

  it("owner ⊇ admin ⊇ operator ∪ analyst ⊇ viewer, and only owners manage owners", () => {
    const [owner, admin, operator, analyst, viewer] = ROLES.map(permissionsOf)
    expect([...owner!].sort()).toEqual([...PERMISSIONS].sort())
    expect(subset(admin!, owner!)).toBe(true)
    expect([...owner!].filter((p) => !admin!.has(p))).toEqual(["owners:manage"])
    expect(subset(operator!, admin!) && subset(analyst!, admin!)).toBe(true)
    expect(subset(viewer!, operator!) && subset(viewer!, analyst!)).toBe(true)
    // the roles differ where the docs say they do
    expect([...viewer!].sort()).toEqual(["audit:read", "automation:read", "jobs:read", "shop:read"])
    expect(operator!.has("automation:emit") && !analyst!.has("automation:emit") && !viewer!.has("automation:emit")).toBe(true)
    expect(analyst!.has("events:read") && !operator!.has("events:read")).toBe(true)
    expect(operator!.has("jobs:undo") && !analyst!.has("jobs:undo")).toBe(true)
    for (const p of ["members:manage", "api_keys:manage", "privacy:read"] as const) {
      expect(admin!.has(p) && !operator!.has(p) && !analyst!.has(p), p).toBe(true)
    }
  })

  it("a principal holds its role's permissions plus known scopes; delegation is checked against them", () => {
    const key: Principal = {
      shop: "a.myshopify.com",
      kind: "api_key",
      subject: "k1",
      role: "viewer",
      permissions: grantedPermissions("viewer", ["events:write", "not:a_permission"])
    }
    expect(can(key, "jobs:read")).toBe(true)
    expect(can(key, "events:write")).toBe(true)
    expect(can(key, "jobs:undo")).toBe(false)
    expect(key.permissions.size).toBe(5)
    expect(grantedPermissions(null, []).size).toBe(0)
    expect(missingPermissions(key, ["jobs:read", "jobs:undo", "owners:manage"])).toEqual(["jobs:undo", "owners:manage"])
    expect(missingPermissions(key, permissionsOf("viewer"))).toEqual([])
  })

  it("isRole and isPermission accept exactly the catalog", () => {
    expect(ROLES.every(isRole)).toBe(true)
    expect([isRole("root"), isRole(""), isRole(undefined), isRole("Owner")]).toEqual([false, false, false, false])
    expect(PERMISSIONS.every(isPermission)).toBe(true)
    expect([isPermission("jobs:delete"), isPermission("jobs"), isPermission(null)]).toEqual([false, false, false])
  })

  it("domain/access/PERMISSIONS.md is the generated table (regenerate with -u)", async () => {
    const markdown = permissionTableMarkdown()
    for (const { permission } of PERMISSION_CATALOG) expect(markdown).toContain(`| \`${permission}\` |`)
    await expect(markdown).toMatchFileSnapshot("../../../domain/access/PERMISSIONS.md")
  })
})
