/**
 * The decision plane's Shopify actions: every action of the registry (`domain/automation/Actions.ts`)
 * has its implementation, and every GraphQL document they send validates against the real 2026-07
 * Admin schema.
 */
import { describe, expect, it } from "vitest"
import { ACTION_METAS } from "../../domain/automation/Actions.ts"
import { ACTIONS } from "../../adapters/actions/index.ts"
import * as Documents from "../../adapters/shopify/actions/documents.ts"
import { validateAdminDocument } from "../../src/simulator/shopify/index.ts"
import "./support.ts"

const documents = Object.entries(Documents).filter(([, v]) => typeof v === "string") as Array<[string, string]>

describe("the actions' GraphQL documents", () => {
  it("every action of the registry has its snapshot, handler and undoHandler, and nothing else is implemented", () => {
    expect(Object.keys(ACTIONS).sort()).toEqual(ACTION_METAS.map((m) => m.key).sort())
  })

  it("finds them", () => {
    expect(documents.length).toBeGreaterThan(0)
  })

  it.each(documents)("%s validates against the 2026-07 Admin schema", (_, document) => {
    expect(validateAdminDocument(document)).toEqual([])
  })
})
