/** The README's admin route table is the catalog's (regenerate it from `adminRouteTableMarkdown`). */
import { readFileSync } from "node:fs"
import { expect, it } from "vitest"
import { adminRouteTableMarkdown } from "../../adapters/http/AdminRouteCatalog.ts"

it("the README lists every admin route as the catalog declares it", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
  expect(readme).toContain(adminRouteTableMarkdown())
})
