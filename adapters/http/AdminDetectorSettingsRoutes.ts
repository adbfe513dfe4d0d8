/**
 * The shop's detector settings (issue 13 §3; `domain/intelligence/detectorSettings.ts`):
 * - `GET /app/settings/detectors` (`insights:read`): what each detector uses now, the shop's
 *   overrides, the deployment's defaults and each field's allowed range (what a settings form
 *   is drawn from);
 * - `PATCH /app/settings/detectors` (`insights:manage`): `{"seo": {"decayDropPct": 20}, "ads":
 *   {"spendZ": null}}` — a number sets a field, `null` returns it to its default. Checked whole:
 *   400 listing every problem, and nothing changes. The change goes to the shop's actor and is
 *   answered once applied (202 if the actor is slower than the wait; 409 if a concurrent
 *   change made it contradictory).
 */
import { Effect } from "effect"
import type { Hono } from "hono"
import { DETECTOR_FIELDS, parseSettingsPatch } from "../../domain/intelligence/detectorSettings.ts"
import type { EventStore } from "../../src/eventstore/EventStore.ts"
import type { LogWakeups } from "../../src/eventstore/LogWakeups.ts"
import { type ShopDetectorSettings, shopDetectorSettings, submitDetectorSettings } from "../../src/intelligence/DetectorSettings.ts"
import type { ShopLog } from "../../src/shoplog/ShopLog.ts"
import {
  type AdminGuard,
  Conflict,
  InvalidRequestBody,
  mountAdminRoute,
  principalLabel,
  readJsonBody,
  requirePrincipal,
  requireShop,
  runAdminEffect,
  Unavailable
} from "./AdminAuth.ts"
import { AdminRoutes } from "./AdminRouteCatalog.ts"
import type { RunEffect } from "./RunEffect.ts"

type Services = EventStore | ShopLog | LogWakeups

const settingsJson = (s: ShopDetectorSettings) => ({
  settings: s.effective,
  overrides: s.overrides,
  defaults: s.defaults,
  limits: DETECTOR_FIELDS
})

export const mountAdminDetectorSettingsRoutes = (app: Hono, run: RunEffect<Services>, guard: AdminGuard) => {
  mountAdminRoute(app, guard, AdminRoutes.getDetectorSettings, (c) =>
    runAdminEffect(run, c, shopDetectorSettings(requireShop(c)), (s) => c.json(settingsJson(s))))

  mountAdminRoute(app, guard, AdminRoutes.updateDetectorSettings, (c) => {
    const principal = requirePrincipal(c)
    return runAdminEffect(
      run,
      c,
      Effect.gen(function*() {
        const body = yield* readJsonBody(c)
        const current = yield* shopDetectorSettings(principal.shop)
        const checked = parseSettingsPatch(body, current.effective)
        if (checked._tag === "Invalid") return yield* new InvalidRequestBody({ message: "the detector settings are not valid", errors: checked.problems })
        const outcome = yield* submitDetectorSettings(principal.shop, checked.patch, principalLabel(principal)).pipe(
          Effect.catchTag("ShopLogUnavailable", () => Effect.fail(new Unavailable({ what: "the shop log" })))
        )
        switch (outcome._tag) {
          case "Applied":
            return { status: 200 as const, body: settingsJson(outcome.settings) }
          case "Pending":
            return { status: 202 as const, body: { status: "pending" } }
          case "Rejected":
            return yield* new Conflict({
              code: "SETTINGS_CONFLICT",
              message: `another change came first and this one no longer fits: ${outcome.problems.map((p) => `${p.field} ${p.message}`).join("; ")}`
            })
        }
      }),
      (out) => c.json(out.body, out.status)
    )
  })
}
