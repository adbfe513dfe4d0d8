/**
 * What every shop gets until its plan comes from `app_subscriptions/update` (or an operator)
 * and its IANA time zone from Shopify's `shop { ianaTimezone }`: the `free` plan, and quiet
 * hours read in UTC. One place, so the rule validator and the dispatcher agree.
 */
import type { Plan } from "../../domain/automation/Actions.ts"

export const RULES_SHOP_DEFAULTS: { readonly plan: Plan; readonly timeZone: string } = { plan: "free", timeZone: "UTC" }
