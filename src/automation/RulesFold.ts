/**
 * A shop's rules (`domain/automation/Rules.ts`) as a snapshot-able fold of its `rules-<shop>`
 * stream: the actor decides rule commands on it, dispatch reads its active rules, and the admin
 * API reads it too (a shop's rules are few; the stream is the read model, with read-your-writes).
 * Bump `RULES_FOLD_VERSION` when `ShopRules`' shape or `evolveShopRules` changes.
 */
import { Schema } from "effect"
import { decodeRuleEvent, evolveShopRules, noRules, RuleSpecFields, type ShopRules } from "../../domain/automation/Rules.ts"
import { TriggerEventNameSchema } from "../../domain/automation/Triggers.ts"
import type { AppendFold } from "../eventstore/EventStore.ts"

export const RULES_FOLD_VERSION = 1

export const rulesStreamId = (shop: string): string => `rules-${shop}`

const ExistingRuleSchema = Schema.Struct({
  exists: Schema.Literal(true),
  ruleId: Schema.String,
  version: Schema.Number,
  enabled: Schema.Boolean,
  deleted: Schema.Boolean,
  ...RuleSpecFields,
  triggerEvent: TriggerEventNameSchema
})

/** Events that do not decode (a rejection record, another type) change nothing. */
export const rulesFold: AppendFold<ShopRules> = {
  name: "rules",
  version: RULES_FOLD_VERSION,
  initial: () => noRules,
  evolve: (rules, event) => {
    const decoded = decodeRuleEvent(event.data)
    return decoded === undefined ? rules : evolveShopRules(rules, decoded)
  },
  schema: Schema.Record(Schema.String, ExistingRuleSchema)
}
