import { describe, expect, it } from "vitest"
import { phoneDigits, phoneNumbersIn, phoneSubject } from "../../../domain/privacy/PhoneSubject.ts"

describe("phone subjects", () => {
  it("compares numbers by their digits, however they are written", () => {
    expect(phoneDigits("+49 151 7654 3210")).toBe("4915176543210")
    expect(phoneDigits("4915176543210")).toBe("4915176543210")
    expect(phoneDigits("+1 (555) 123-4567")).toBe("15551234567")
    expect(phoneDigits("n/a")).toBeUndefined()
    expect(phoneDigits("12345")).toBeUndefined()
    expect(phoneDigits("1".repeat(16))).toBeUndefined()
  })

  it("finds every phone number a customer's data names, at any depth, once", () => {
    const record = {
      phone: "+49 151 7654 3210",
      raw: {
        default_address: { phone: "+1 555 123 4567", city: "Berlin" },
        addresses: [{ phone: "+15551234567" }, { phone: null }],
        sms_marketing_consent: { state: "subscribed" },
        billing_phone: "0049-30-1234567",
        note: "call +44 20 7946 0000" // free text is not a phone field
      }
    }
    expect([...phoneNumbersIn([record, { phone: "4915176543210" }])].sort()).toEqual(["004930123456" + "7", "15551234567", "4915176543210"].sort())
  })

  it("names the subject by the index, never the number", () => {
    expect(phoneSubject("usjOVyqYIDVyxp8gGyS_tQ")).toBe("phone:usjOVyqYIDVyxp8gGyS_tQ")
  })
})
