import { describe, expect, it } from "vitest"
import {
  applyPatch,
  DEFAULT_DETECTOR_SETTINGS,
  effectiveSettings,
  parseSettingsPatch,
  patchOverrides,
  settingsChanges
} from "../../../domain/intelligence/detectorSettings.ts"

const defaults = DEFAULT_DETECTOR_SETTINGS

describe("a shop's detector settings", () => {
  it("a patch sets fields and null returns one to its default", () => {
    const checked = parseSettingsPatch({ seo: { decayDropPct: 20, minPriorClicks: null }, ads: { spendZ: 2.5 } }, defaults)
    expect(checked).toEqual({ _tag: "Valid", patch: { seo: { decayDropPct: 20, minPriorClicks: null }, ads: { spendZ: 2.5 } } })
    const overrides = patchOverrides({ seo: { minPriorClicks: 10 }, cartAbandonment: { minValue: 40 } }, checked._tag === "Valid" ? checked.patch : {})
    expect(overrides).toEqual({ seo: { decayDropPct: 20 }, ads: { spendZ: 2.5 }, cartAbandonment: { minValue: 40 } })
    const effective = effectiveSettings(overrides, defaults)
    expect(effective.seo).toEqual({ ...defaults.seo, decayDropPct: 20 })
    expect(effective.ads).toEqual({ ...defaults.ads, spendZ: 2.5 })
    expect(effective.cartAbandonment).toEqual({ windowMinutes: 60, minValue: 40 })
    expect(effective.siteAudit).toEqual(defaults.siteAudit)
  })

  it("an emptied group disappears from the overrides, and changes name each field with its old and new override", () => {
    const before = { seo: { decayDropPct: 20 }, ads: { spendZ: 2.5 } }
    const after = patchOverrides(before, { seo: { decayDropPct: null }, ads: { spendZ: 4 } })
    expect(after).toEqual({ ads: { spendZ: 4 } })
    expect(settingsChanges(before, after)).toEqual([
      { field: "seo.decayDropPct", from: 20, to: null },
      { field: "ads.spendZ", from: 2.5, to: 4 }
    ])
    expect(settingsChanges(after, after)).toEqual([])
  })

  it("lists every problem of a patch at once: unknown groups and fields, types, ranges, whole numbers, open bounds", () => {
    const checked = parseSettingsPatch({
      seo: { decayDropPct: 0, minPriorClicks: 2.5, nonsense: 1 },
      ads: { spendZ: 0, keywordZ: "3" },
      cartAbandonment: { windowMinutes: 7 * 24 * 60 + 1 },
      weather: { rain: 1 },
      siteAudit: 5
    }, defaults)
    expect(checked._tag).toBe("Invalid")
    expect(checked._tag === "Invalid" ? checked.problems.map((p) => p.field) : []).toEqual([
      "seo.decayDropPct",
      "seo.minPriorClicks",
      "seo.nonsense",
      "ads.spendZ",
      "ads.keywordZ",
      "cartAbandonment.windowMinutes",
      "weather",
      "siteAudit"
    ])
    const messages = checked._tag === "Invalid" ? Object.fromEntries(checked.problems.map((p) => [p.field, p.message])) : {}
    expect(messages["seo.minPriorClicks"]).toBe("must be a whole number from 1 to 1000000, or null for the default")
    expect(messages["ads.spendZ"]).toBe("must be a number above 0 and at most 10, or null for the default")
    expect(messages["weather"]).toMatch(/^is not a detector group \(seo, ads, siteAudit, cartAbandonment\)$/)
    expect(parseSettingsPatch([1], defaults)._tag).toBe("Invalid")
    // names every object has are not settings
    expect(parseSettingsPatch({ seo: { toString: 5, decayDropPct: 20 }, constructor: {} }, defaults)).toMatchObject({
      _tag: "Invalid", problems: [{ field: "seo.toString" }, { field: "constructor" }]
    })
    expect(parseSettingsPatch({ seo: { decayDropPct: Number.NaN } }, defaults)._tag).toBe("Invalid")
  })

  it("refuses a band turned upside down, against the settings it would apply to", () => {
    // alone, 25 is a valid bottom; with the top already lowered to 15 it is not
    const current = applyPatch(defaults, { seo: { opportunityMaxPosition: 15 } }, defaults)
    expect(parseSettingsPatch({ seo: { opportunityMinPosition: 12 } }, current)._tag).toBe("Valid")
    expect(parseSettingsPatch({ seo: { opportunityMinPosition: 16 } }, current)).toEqual({
      _tag: "Invalid",
      problems: [{ field: "seo.opportunityMinPosition", message: "must not be above seo.opportunityMaxPosition (16 > 15)" }]
    })
    // both moved in one patch: judged together
    expect(parseSettingsPatch({ seo: { opportunityMinPosition: 16, opportunityMaxPosition: 30 } }, current)._tag).toBe("Valid")
    expect(parseSettingsPatch({ ads: { spendMinBaselineDays: 30 } }, defaults)).toMatchObject({ _tag: "Invalid", problems: [{ field: "ads.spendMinBaselineDays" }] })
    // resetting the top to its default (20) makes room again
    expect(parseSettingsPatch({ seo: { opportunityMinPosition: 16, opportunityMaxPosition: null } }, current)._tag).toBe("Valid")
  })
})
