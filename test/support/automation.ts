/** The decision plane's test fixtures shared by the domain and HTTP suites. */

/** The example rule, as the admin API takes it (issue 11 §2). */
export const exampleRuleJson = {
  name: "Tag drafted products",
  trigger_event: "product.drafted",
  action_key: "tag_product",
  params: { tags: ["needs-review"] },
  condition: "resource.payload.vendor == 'Acme'",
  cooldown_seconds: 3600,
  quiet_hours: { start: "22:00", end: "08:00" },
  requires_approval: false,
  enabled: true
} as const
