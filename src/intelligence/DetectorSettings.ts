/**
 * A shop's detector settings (`domain/intelligence/detectorSettings.ts`) in the running system:
 * - the deployment's defaults: the detectors' own, with `CART_ABANDON_*` and
 *   `SITE_AUDIT_MAX_PAGES` over them ({@link DetectorDefaults});
 * - the shop's overrides: a fold of its `detector-settings-<shop>` stream, whose single writer is
 *   the shop's actor (`detectors.set_settings`);
 * - {@link shopDetectorSettings}: what a detector uses for a shop, read when it runs;
 * - {@link submitDetectorSettings}: the admin API's change, sent to the actor and waited for,
 *   bounded, like a rule change.
 */
import { Config, Context, Duration, Effect, Layer, Option, Schema, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import {
  DEFAULT_DETECTOR_SETTINGS,
  DETECTOR_GROUPS,
  DETECTOR_SETTINGS_CHANGED,
  type DetectorOverrides,
  type DetectorSettings,
  type DetectorSettingsPatch,
  detectorSettingsStreamId,
  effectiveSettings,
  parseSettingsPatch,
  patchOverrides,
  settingsChanges,
  type SettingsProblem
} from "../../domain/intelligence/detectorSettings.ts"
import { encodeShopMessage } from "../../domain/messages/ShopMessages.ts"
import type { Decision, HandlerRegistry } from "../actors/ShopHandlers.ts"
import { EventStore, type Fold } from "../eventstore/EventStore.ts"
import { awaitCommitted } from "../eventstore/LogWakeups.ts"
import { ShopLog } from "../shoplog/ShopLog.ts"

export const DETECTOR_SETTINGS_REJECTED = "detectors.settings_rejected"

const OverridesSchema = Schema.Struct(
  Object.fromEntries(DETECTOR_GROUPS.map((g) => [g, Schema.optional(Schema.Record(Schema.String, Schema.Finite))]))
) as unknown as Schema.Codec<DetectorOverrides, unknown>

const decodeOverrides = Schema.decodeUnknownOption(OverridesSchema)

/** The shop's overrides: each `detectors.settings_changed` carries them whole. */
export const detectorSettingsFold: Fold<DetectorOverrides> = {
  name: "detector-settings",
  version: 1,
  initial: () => ({}),
  evolve: (state, event) => {
    if (event.type !== DETECTOR_SETTINGS_CHANGED) return state
    const overrides = decodeOverrides((event.data as { readonly overrides?: unknown }).overrides)
    return Option.getOrElse(overrides, () => state)
  },
  schema: OverridesSchema
}

/** The deployment's defaults, under every shop's overrides (the detectors' own unless configured). */
export const DetectorDefaults = Context.Reference<DetectorSettings>("sumeru/intelligence/DetectorDefaults", {
  defaultValue: () => DEFAULT_DETECTOR_SETTINGS
})

/**
 * {@link DetectorDefaults} with the environment's over the detectors' own: `CART_ABANDON_MINUTES`,
 * `CART_ABANDON_MIN_VALUE` and `SITE_AUDIT_MAX_PAGES` (checked like a shop's settings: a value
 * out of range stops the process at start, naming it).
 */
export const detectorDefaultsFromConfig = Layer.effect(
  DetectorDefaults,
  Effect.gen(function*() {
    const base = DEFAULT_DETECTOR_SETTINGS
    const windowMinutes = yield* Config.Int("CART_ABANDON_MINUTES").pipe(Config.withDefault(base.cartAbandonment.windowMinutes))
    const minValue = yield* Config.Number("CART_ABANDON_MIN_VALUE").pipe(Config.withDefault(base.cartAbandonment.minValue))
    const maxPages = yield* Config.Int("SITE_AUDIT_MAX_PAGES").pipe(Config.withDefault(base.siteAudit.maxPages))
    const checked = parseSettingsPatch({ cartAbandonment: { windowMinutes, minValue }, siteAudit: { maxPages } }, base)
    if (checked._tag === "Invalid") {
      const names: Record<string, string> = {
        "cartAbandonment.windowMinutes": "CART_ABANDON_MINUTES",
        "cartAbandonment.minValue": "CART_ABANDON_MIN_VALUE",
        "siteAudit.maxPages": "SITE_AUDIT_MAX_PAGES"
      }
      return yield* Effect.die(new Error(checked.problems.map((p) => `${names[p.field] ?? p.field} ${p.message}`).join("; ")))
    }
    return { ...base, cartAbandonment: { windowMinutes, minValue }, siteAudit: { ...base.siteAudit, maxPages } } satisfies DetectorSettings
  })
)

export interface ShopDetectorSettings {
  readonly effective: DetectorSettings
  readonly overrides: DetectorOverrides
  readonly defaults: DetectorSettings
  readonly version: number
}

/** What a shop's detectors use now: its overrides over the deployment's defaults. */
export const shopDetectorSettings = (shop: string) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const defaults = yield* DetectorDefaults
    const { state, version } = yield* store.loadFold(detectorSettingsStreamId(shop), detectorSettingsFold)
    return { effective: effectiveSettings(state, defaults), overrides: state, defaults, version } satisfies ShopDetectorSettings
  })

export const makeDetectorSettingsHandlers = Effect.gen(function*() {
  const store = yield* EventStore
  return {
    "detectors.set_settings": (ctx) =>
      Effect.gen(function*() {
        const { commandId, patch, by } = ctx.message.payload
        const defaults = yield* DetectorDefaults
        const { state } = yield* store.loadFold(detectorSettingsStreamId(ctx.shop), detectorSettingsFold)
        // checked again against the settings it is applied to: another change may have come first
        const checked = parseSettingsPatch(patch, effectiveSettings(state, defaults))
        const streamId = detectorSettingsStreamId(ctx.shop)
        if (checked._tag === "Invalid") {
          return {
            appends: [{ streamId, expected: "any", events: [{ type: DETECTOR_SETTINGS_REJECTED, data: { commandId, problems: checked.problems, by } }] }]
          } satisfies Decision
        }
        const next = patchOverrides(state, checked.patch)
        const changes = settingsChanges(state, next)
        if (changes.length === 0) return { appends: [] } satisfies Decision
        return {
          appends: [{ streamId, expected: "any", events: [{ type: DETECTOR_SETTINGS_CHANGED, data: { commandId, overrides: next, changes, by } }] }]
        } satisfies Decision
      })
  } satisfies Partial<HandlerRegistry>
})

export type DetectorSettingsOutcome =
  | { readonly _tag: "Applied"; readonly settings: ShopDetectorSettings }
  | { readonly _tag: "Rejected"; readonly problems: ReadonlyArray<SettingsProblem> }
  | { readonly _tag: "Pending" }

/** Every field of the patch reads as it asks: a set value, or (null) no override. */
const reflects = (overrides: DetectorOverrides, patch: DetectorSettingsPatch): boolean =>
  DETECTOR_GROUPS.every((group) =>
    Object.entries((patch[group] ?? {}) as Record<string, number | null>).every(([field, value]) => {
      const now = (overrides[group] as Record<string, number> | undefined)?.[field]
      return value === null ? now === undefined : now === value
    })
  )

/**
 * Sends a checked patch to the shop's actor and waits (at most `wait`) until the settings read
 * as it asks, or the actor refused it (a concurrent change made it contradictory).
 */
export const submitDetectorSettings = (shop: string, patch: DetectorSettingsPatch, by: string, wait: Duration.Input = Duration.seconds(10)) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    const log = yield* ShopLog
    const before = yield* shopDetectorSettings(shop)
    if (reflects(before.overrides, patch)) return { _tag: "Applied", settings: before } as DetectorSettingsOutcome
    const commandId = uuidV7Unsafe()
    yield* log.publish({
      shop,
      messageId: `detector-settings:${commandId}`,
      ...encodeShopMessage({ type: "detectors.set_settings", payload: { commandId, patch: patch as Record<string, Record<string, number | null>>, by } }),
      correlationId: commandId
    })
    const outcome = Effect.gen(function*() {
      const now = yield* shopDetectorSettings(shop)
      if (now.version === before.version) return Option.none<DetectorSettingsOutcome>()
      const rejected = yield* store.readStream(detectorSettingsStreamId(shop), { from: before.version + 1 }).pipe(
        Stream.filter((e) => e.type === DETECTOR_SETTINGS_REJECTED && (e.data as { readonly commandId?: string }).commandId === commandId),
        Stream.runHead
      )
      if (Option.isSome(rejected)) {
        return Option.some<DetectorSettingsOutcome>({ _tag: "Rejected", problems: (rejected.value.data as { readonly problems: ReadonlyArray<SettingsProblem> }).problems })
      }
      return reflects(now.overrides, patch) ? Option.some<DetectorSettingsOutcome>({ _tag: "Applied", settings: now }) : Option.none<DetectorSettingsOutcome>()
    })
    return yield* awaitCommitted(outcome, wait).pipe(Effect.map(Option.getOrElse((): DetectorSettingsOutcome => ({ _tag: "Pending" }))))
  })
