import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { isMetafieldType, METAFIELD_TYPES, validateMetafieldValue, type MetafieldType } from "../../../domain/jobs/index.ts"

const codeOf = (type: MetafieldType, value: string): string | "ok" => {
  const result = validateMetafieldValue(type, value)
  return Result.isSuccess(result) ? "ok" : result.failure.code
}

describe("supported metafield types", () => {
  it("are the seed's four plus multi_line_text_field and number_decimal", () => {
    expect([...METAFIELD_TYPES].sort()).toEqual(
      ["boolean", "json", "multi_line_text_field", "number_decimal", "number_integer", "single_line_text_field"]
    )
    expect(isMetafieldType("json")).toBe(true)
    expect(isMetafieldType("money")).toBe(false)
    expect(isMetafieldType("JSON")).toBe(false)
  })
})

describe("validateMetafieldValue", () => {
  it("returns the value unchanged when it fits", () => {
    expect(validateMetafieldValue("number_decimal", "007.50")).toEqual(Result.succeed("007.50"))
  })

  it.each(METAFIELD_TYPES)("rejects an empty %s value as blank", (type) => {
    expect(codeOf(type, "")).toBe("blank")
  })

  it.each([
    ["single_line_text_field", "Winter Collection", "ok"],
    ["single_line_text_field", "Winter\nCollection", "contains_newline"],
    ["single_line_text_field", "Winter\rCollection", "contains_newline"],
    ["multi_line_text_field", "Winter\nCollection", "ok"],
    ["boolean", "true", "ok"],
    ["boolean", "false", "ok"],
    ["boolean", "TRUE", "invalid_boolean"],
    ["boolean", "1", "invalid_boolean"],
    ["boolean", " true", "invalid_boolean"],
    ["number_integer", "42", "ok"],
    ["number_integer", "-42", "ok"],
    ["number_integer", "9007199254740991", "ok"],
    ["number_integer", "-9007199254740991", "ok"],
    ["number_integer", "9007199254740992", "integer_out_of_range"],
    ["number_integer", "-9007199254740992", "integer_out_of_range"],
    ["number_integer", "99999999999999999999999", "integer_out_of_range"],
    ["number_integer", "4.2", "invalid_integer"],
    ["number_integer", "4.0", "invalid_integer"],
    ["number_integer", "1e3", "invalid_integer"],
    ["number_integer", "+5", "invalid_integer"],
    ["number_integer", "abc", "invalid_integer"],
    ["number_decimal", "12.50", "ok"],
    ["number_decimal", "12", "ok"],
    ["number_decimal", "-0.123456789", "ok"],
    ["number_decimal", "9999999999999.999999999", "ok"],
    ["number_decimal", "-9999999999999.999999999", "ok"],
    ["number_decimal", "0000000000000009.5", "ok"],
    ["number_decimal", "10000000000000", "decimal_out_of_range"],
    ["number_decimal", "-10000000000000.5", "decimal_out_of_range"],
    ["number_decimal", "1.1234567890", "too_many_decimal_places"],
    ["number_decimal", ".5", "invalid_decimal"],
    ["number_decimal", "5.", "invalid_decimal"],
    ["number_decimal", "1,5", "invalid_decimal"],
    ["number_decimal", "1e5", "invalid_decimal"],
    ["json", "{\"a\":1}", "ok"],
    ["json", "[1,2]", "ok"],
    ["json", "\"text\"", "ok"],
    ["json", "{a:1}", "invalid_json"],
    ["json", "{\"a\":1", "invalid_json"]
  ] as const)("%s %j → %s", (type, value, expected) => {
    expect(codeOf(type, value)).toBe(expected)
  })

  it("explains the rule in the message", () => {
    const result = validateMetafieldValue("number_integer", "9007199254740992")
    expect(Result.isFailure(result) && result.failure.message).toContain("9,007,199,254,740,991")
  })
})
