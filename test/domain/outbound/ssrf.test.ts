/** The outbound SSRF guard (issue 12 §1): internal addresses refused in every spelling; the operator's exact targets allowed. */
import { describe, expect, it } from "vitest"
import { checkResolvedAddress, checkTargetUrl, parseAllowedTargets, parseIp } from "../../../domain/outbound/Ssrf.ts"

const none = parseAllowedTargets("").targets

describe("checkTargetUrl", () => {
  it.each([
    "http://localhost:8080/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://0177.0.0.1/hook",
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.20.0.5/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[::ffff:a9fe:a9fe]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[64:ff9b::a00:1]/hook",
    "http://intranet/hook",
    "http://printer.local/hook"
  ])("refuses %s, saying why", (url) => {
    const v = checkTargetUrl(url, none)
    expect(v.ok).toBe(false)
    expect(v.reason).toMatch(/address|name of this machine/)
  })

  it.each(["https://hooks.example.com/sumeru", "http://93.184.216.34:8080/x", "https://[2606:4700::1111]/x"])("accepts %s", (url) => {
    expect(checkTargetUrl(url, none)).toEqual({ ok: true })
  })

  it("refuses what is not an http(s) URL, or carries credentials", () => {
    expect(checkTargetUrl("ftp://example.com/x", none).reason).toBe("must be an http(s) URL")
    expect(checkTargetUrl("/relative", none).reason).toBe("is not an absolute URL")
    expect(checkTargetUrl("https://user:pw@example.com/x", none).reason).toBe("must not carry credentials")
  })

  it("allows exactly the listed host:port (nothing wider) and listed CIDRs", () => {
    const { targets, invalid } = parseAllowedTargets("127.0.0.1:4010, 10.9.0.0/16, nonsense")
    expect(invalid).toEqual(["nonsense: neither host:port nor a CIDR"])
    expect(checkTargetUrl("http://127.0.0.1:4010/hook", targets).ok).toBe(true)
    expect(checkTargetUrl("http://127.0.0.1:4011/hook", targets).ok).toBe(false)
    expect(checkTargetUrl("http://localhost:4010/hook", targets).ok).toBe(false)
    expect(checkTargetUrl("http://10.9.4.4/hook", targets).ok).toBe(true)
    expect(checkTargetUrl("http://10.8.4.4/hook", targets).ok).toBe(false)
  })
})

describe("checkResolvedAddress (at delivery time)", () => {
  it("refuses a public name that now resolves to an internal address", () => {
    const v = checkResolvedAddress("169.254.169.254", "hooks.example.com", 443, none)
    expect(v).toEqual({ ok: false, reason: "hooks.example.com now resolves to 169.254.169.254, a link-local (169.254.0.0/16, cloud metadata) address" })
    expect(checkResolvedAddress("::ffff:10.0.0.1", "hooks.example.com", 443, none).ok).toBe(false)
    expect(checkResolvedAddress("93.184.216.34", "hooks.example.com", 443, none).ok).toBe(true)
  })
})

describe("parseIp", () => {
  it("reads IPv4 and IPv6 spellings", () => {
    expect(parseIp("1.2.3.4")).toEqual({ v: 4, n: 0x01020304 })
    expect(parseIp("0x01020304")).toEqual({ v: 4, n: 0x01020304 })
    expect(parseIp("::ffff:1.2.3.4")).toEqual({ v: 6, groups: [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304] })
    expect(parseIp("1.2.3.256")).toBeUndefined()
    expect(parseIp("1::2::3")).toBeUndefined()
  })
})
