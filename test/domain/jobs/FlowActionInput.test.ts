import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { validateFlowActionInput, type FieldError, type JobInput } from "../../../domain/jobs/index.ts"

const valid = {
  query_string: "status:active tag:winter",
  namespace: "custom",
  key: "seasonal_badge",
  type: "single_line_text_field",
  value: "Winter Collection",
  dry_run: true,
  max_items: 5000
}

const ok = (body: unknown): JobInput => {
  const result = validateFlowActionInput(body)
  if (Result.isFailure(result)) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`)
  return result.success
}

const errors = (body: unknown): ReadonlyArray<FieldError> => {
  const result = validateFlowActionInput(body)
  if (Result.isSuccess(result)) throw new Error(`expected errors, got ${JSON.stringify(result.success)}`)
  return result.failure
}

/** `field:code` pairs, in report order. */
const codes = (body: unknown): ReadonlyArray<string> => errors(body).map((e) => `${e.field}:${e.code}`)

const withField = (field: string, value: unknown) => ({ ...valid, [field]: value })
const without = (field: string) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))

describe("the seed's flat body", () => {
  it("normalises the seed's example request", () => {
    expect(ok(valid)).toEqual({
      queryString: "status:active tag:winter",
      namespace: "custom",
      key: "seasonal_badge",
      type: "single_line_text_field",
      value: "Winter Collection",
      dryRun: true,
      maxItems: 5000,
      actionRunId: null,
      shopDomain: null
    })
  })

  it("rejects a body that is not a JSON object", () => {
    for (const body of [null, "text", 42, [valid]]) {
      expect(codes(body)).toEqual(["body:invalid_type"])
    }
  })

  it("ignores unknown keys", () => {
    expect(ok({ ...valid, step_reference: "abc" }).key).toBe("seasonal_badge")
  })
})

describe("query_string", () => {
  it("is required and must not be blank", () => {
    expect(codes(without("query_string"))).toEqual(["query_string:required"])
    expect(codes(withField("query_string", ""))).toEqual(["query_string:required"])
    expect(codes(withField("query_string", "   "))).toEqual(["query_string:required"])
  })

  it("is trimmed", () => {
    expect(ok(withField("query_string", "  tag:winter \n")).queryString).toBe("tag:winter")
  })

  it("is at most 500 characters", () => {
    expect(ok(withField("query_string", "a".repeat(500))).queryString).toHaveLength(500)
    expect(codes(withField("query_string", "a".repeat(501)))).toEqual(["query_string:too_long"])
  })

  it("must be a string", () => {
    expect(codes(withField("query_string", 5))).toEqual(["query_string:invalid_type"])
  })
})

describe("namespace and key", () => {
  it("accept lowercase letters, digits and underscores", () => {
    const input = ok({ ...valid, namespace: "my_app_2", key: "badge_1" })
    expect([input.namespace, input.key]).toEqual(["my_app_2", "badge_1"])
  })

  it.each(["Custom", "cus-tom", "cus tom", "cüstom", "custom."])("reject namespace %j as invalid_format", (namespace) => {
    expect(codes(withField("namespace", namespace))).toEqual(["namespace:invalid_format"])
  })

  it.each(["Badge", "seasonal-badge"])("reject key %j as invalid_format", (key) => {
    expect(codes(withField("key", key))).toEqual(["key:invalid_format"])
  })

  it("namespace is 3 to 50 characters (Shopify's minimum, the seed's maximum)", () => {
    expect(codes(withField("namespace", "ab"))).toEqual(["namespace:too_short"])
    expect(ok(withField("namespace", "abc")).namespace).toBe("abc")
    expect(ok(withField("namespace", "n".repeat(50))).namespace).toHaveLength(50)
    expect(codes(withField("namespace", "n".repeat(51)))).toEqual(["namespace:too_long"])
  })

  it("key is 2 to 50 characters", () => {
    expect(codes(withField("key", "k"))).toEqual(["key:too_short"])
    expect(ok(withField("key", "kk")).key).toBe("kk")
    expect(ok(withField("key", "k".repeat(50))).key).toHaveLength(50)
    expect(codes(withField("key", "k".repeat(51)))).toEqual(["key:too_long"])
  })

  it("report every rule a field breaks", () => {
    expect(codes(withField("key", "K".repeat(51)))).toEqual(["key:too_long", "key:invalid_format"])
  })

  it("are required", () => {
    expect(codes(without("namespace"))).toEqual(["namespace:required"])
    expect(codes(withField("key", null))).toEqual(["key:required"])
  })
})

describe("type", () => {
  it.each(["single_line_text_field", "multi_line_text_field", "boolean", "number_integer", "number_decimal", "json"])(
    "accepts %s",
    (type) => {
      const value = { boolean: "true", number_integer: "5", number_decimal: "5.5", json: "{}" }[type] ?? "text"
      expect(ok({ ...valid, type, value }).type).toBe(type)
    }
  )

  it("rejects other types, and then does not check the value", () => {
    const [error, ...rest] = errors({ ...valid, type: "money", value: "not money" })
    expect(rest).toEqual([])
    expect(error).toEqual({
      field: "type",
      code: "unsupported",
      message: "must be one of single_line_text_field, multi_line_text_field, boolean, number_integer, number_decimal, json"
    })
  })

  it("is required", () => {
    expect(codes(without("type"))).toEqual(["type:required"])
  })
})

describe("value", () => {
  it("is required and a string", () => {
    expect(codes(without("value"))).toEqual(["value:required"])
    expect(codes(withField("value", 5))).toEqual(["value:invalid_type"])
  })

  it("is at most 1,024 bytes of UTF-8, not 1,024 characters", () => {
    expect(ok(withField("value", "a".repeat(1024))).value).toHaveLength(1024)
    expect(codes(withField("value", "a".repeat(1025)))).toEqual(["value:too_long"])
    expect(ok(withField("value", "é".repeat(512))).value).toHaveLength(512)
    expect(codes(withField("value", "é".repeat(513)))).toEqual(["value:too_long"])
    expect(codes(withField("value", "😀".repeat(257)))).toEqual(["value:too_long"])
  })

  it("is checked against its type", () => {
    expect(codes({ ...valid, type: "boolean", value: "yes" })).toEqual(["value:invalid_boolean"])
    expect(ok({ ...valid, type: "boolean", value: "false" }).value).toBe("false")
    expect(codes({ ...valid, type: "number_integer", value: "1.5" })).toEqual(["value:invalid_integer"])
    expect(codes({ ...valid, type: "number_integer", value: "9007199254740992" })).toEqual(["value:integer_out_of_range"])
    expect(ok({ ...valid, type: "number_integer", value: "-9007199254740991" }).value).toBe("-9007199254740991")
    expect(codes({ ...valid, type: "number_decimal", value: "1.0000000001" })).toEqual(["value:too_many_decimal_places"])
    expect(codes({ ...valid, type: "number_decimal", value: "10000000000000" })).toEqual(["value:decimal_out_of_range"])
    expect(codes({ ...valid, type: "json", value: "{oops" })).toEqual(["value:invalid_json"])
    expect(ok({ ...valid, type: "json", value: "{\"a\":[1]}" }).value).toBe("{\"a\":[1]}")
    expect(codes({ ...valid, type: "single_line_text_field", value: "a\nb" })).toEqual(["value:contains_newline"])
    expect(ok({ ...valid, type: "multi_line_text_field", value: "a\nb" }).value).toBe("a\nb")
  })

  it("is never rewritten", () => {
    expect(ok(withField("value", "  padded  ")).value).toBe("  padded  ")
  })
})

describe("dry_run", () => {
  it("defaults to true when absent, null or empty", () => {
    expect(ok(without("dry_run")).dryRun).toBe(true)
    expect(ok(withField("dry_run", null)).dryRun).toBe(true)
    expect(ok(withField("dry_run", "")).dryRun).toBe(true)
  })

  it("accepts booleans and Flow's \"true\"/\"false\" strings", () => {
    expect(ok(withField("dry_run", false)).dryRun).toBe(false)
    expect(ok(withField("dry_run", "false")).dryRun).toBe(false)
    expect(ok(withField("dry_run", "true")).dryRun).toBe(true)
  })

  it.each(["yes", "False", 0, 1, {}])("rejects %j", (dryRun) => {
    expect(codes(withField("dry_run", dryRun))).toEqual(["dry_run:invalid_type"])
  })
})

describe("max_items", () => {
  it("defaults to 10,000 when absent, null or empty", () => {
    expect(ok(without("max_items")).maxItems).toBe(10_000)
    expect(ok(withField("max_items", null)).maxItems).toBe(10_000)
    expect(ok(withField("max_items", "")).maxItems).toBe(10_000)
  })

  it("accepts numbers and numeric strings from 1 to 100,000", () => {
    expect(ok(withField("max_items", 1)).maxItems).toBe(1)
    expect(ok(withField("max_items", "5000")).maxItems).toBe(5000)
    expect(ok(withField("max_items", 100_000)).maxItems).toBe(100_000)
  })

  it("rejects values out of range", () => {
    expect(codes(withField("max_items", 0))).toEqual(["max_items:out_of_range"])
    expect(codes(withField("max_items", "-3"))).toEqual(["max_items:out_of_range"])
    expect(codes(withField("max_items", 100_001))).toEqual(["max_items:out_of_range"])
  })

  it("rejects fractions and non-numbers", () => {
    expect(codes(withField("max_items", 1.5))).toEqual(["max_items:not_integer"])
    expect(codes(withField("max_items", "1.5"))).toEqual(["max_items:not_integer"])
    expect(codes(withField("max_items", "abc"))).toEqual(["max_items:invalid_type"])
    expect(codes(withField("max_items", true))).toEqual(["max_items:invalid_type"])
  })
})

describe("several errors", () => {
  it("are all reported at once, in field order, with messages", () => {
    const result = errors({
      query_string: "",
      namespace: "ab",
      key: "Bad-Key",
      type: "boolean",
      value: "maybe",
      dry_run: "nope",
      max_items: 0
    })
    expect(result).toEqual([
      { field: "query_string", code: "required", message: "is required" },
      { field: "namespace", code: "too_short", message: "must be at least 3 characters" },
      {
        field: "key",
        code: "invalid_format",
        message: "may contain only lowercase letters a-z, digits 0-9 and underscores"
      },
      { field: "value", code: "invalid_boolean", message: "a boolean value must be \"true\" or \"false\"" },
      { field: "dry_run", code: "invalid_type", message: "must be true or false" },
      { field: "max_items", code: "out_of_range", message: "must be between 1 and 100,000" }
    ])
  })
})

describe("Shopify Flow's envelope", () => {
  const envelope = {
    shop_id: "1",
    shopify_domain: "example.myshopify.com",
    action_run_id: "a1b2c3d4-run",
    action_definition_id: "Set product metafield",
    handle: "set-product-metafield",
    properties: {
      query_string: "status:active tag:winter",
      namespace: "custom",
      key: "seasonal_badge",
      type: "number_integer",
      value: "12",
      dry_run: "false",
      max_items: "5000",
      step_reference: "320d4f8a-0000"
    }
  }

  it("accepts string-typed properties and keeps the run id and shop", () => {
    expect(ok(envelope)).toEqual({
      queryString: "status:active tag:winter",
      namespace: "custom",
      key: "seasonal_badge",
      type: "number_integer",
      value: "12",
      dryRun: false,
      maxItems: 5000,
      actionRunId: "a1b2c3d4-run",
      shopDomain: "example.myshopify.com"
    })
  })

  it("applies the same rules to properties and reports them under properties.*", () => {
    expect(codes({ ...envelope, properties: { ...envelope.properties, namespace: "X", max_items: "0" } })).toEqual([
      "properties.namespace:too_short",
      "properties.namespace:invalid_format",
      "properties.max_items:out_of_range"
    ])
  })

  it("requires action_run_id and a myshopify.com domain, together with property errors", () => {
    const { action_run_id: _, ...noRunId } = envelope
    expect(codes({ ...noRunId, shopify_domain: "example.com", properties: { ...envelope.properties, type: "boolean" } }))
      .toEqual(["action_run_id:required", "shopify_domain:invalid_format", "properties.value:invalid_boolean"])
  })

  it("requires properties to be an object", () => {
    expect(codes({ ...envelope, properties: "query_string=x" })).toEqual(["properties:invalid_type"])
  })

  it("takes defaults for empty optional properties", () => {
    const input = ok({ ...envelope, properties: { ...envelope.properties, dry_run: "", max_items: "" } })
    expect([input.dryRun, input.maxItems]).toEqual([true, 10_000])
  })
})
