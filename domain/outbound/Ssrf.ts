/**
 * Where outbound webhooks may go (issue 12 §1): never to a private, loopback, link-local or
 * otherwise internal address — in every spelling an attacker might use to smuggle one past a
 * naive check: `localhost` names, decimal (`2130706433`), hex (`0x7f000001`), octal (`0177.0.0.1`)
 * and short (`127.1`) IPv4 forms, IPv4-mapped and compatible IPv6 (`::ffff:127.0.0.1`,
 * `::ffff:7f00:1`), IPv6 loopback, unique-local and link-local — unless the operator allowed the
 * exact target (`OUTBOUND_ALLOWED_TARGETS`: `host:port` entries or CIDRs). The same check runs
 * on the subscription's URL and, at every delivery, on each address its host resolves to (DNS
 * can change between the two). Pure: resolution is the adapter's.
 */

/** An IPv4 address as a 32-bit number, or an IPv6 address as eight 16-bit groups. */
export type IpAddress = { readonly v: 4; readonly n: number } | { readonly v: 6; readonly groups: ReadonlyArray<number> }

/** One IPv4 part in decimal, hex (`0x…`) or octal (`0…`), as `inet_aton` reads it. */
const ipv4Part = (s: string): number | undefined => {
  if (/^0x[0-9a-f]*$/i.test(s)) return s.length === 2 ? 0 : Number.parseInt(s.slice(2), 16)
  if (/^0[0-7]+$/.test(s)) return Number.parseInt(s, 8)
  if (/^(0|[1-9][0-9]*)$/.test(s)) return Number(s)
  return undefined
}

/** IPv4 in any form `inet_aton` accepts: `a`, `a.b`, `a.b.c`, `a.b.c.d`, each part decimal, hex or octal. */
export const parseIpv4 = (host: string): number | undefined => {
  const parts = host.split(".")
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p === "")) return undefined
  const nums = parts.map(ipv4Part)
  if (nums.some((n) => n === undefined)) return undefined
  const ns = nums as Array<number>
  const last = ns[ns.length - 1]!
  const head = ns.slice(0, -1)
  if (head.some((n) => n > 255) || last >= 2 ** (8 * (5 - ns.length))) return undefined
  return head.reduce((acc, n, i) => acc + n * 2 ** (24 - 8 * i), 0) + last
}

/** IPv6 (with `::`, and an embedded dotted IPv4 tail), or undefined. */
export const parseIpv6 = (text: string): ReadonlyArray<number> | undefined => {
  let host = text.replace(/^\[|\]$/g, "").split("%")[0]!
  // a dotted IPv4 tail (`::ffff:127.0.0.1`) becomes its two groups
  const dotted = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(host)
  if (dotted !== null) {
    const n = parseIpv4(dotted[2]!)
    if (n === undefined) return undefined
    host = `${dotted[1]}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`
  }
  const halves = host.split("::")
  if (halves.length > 2) return undefined
  const groupsOf = (s: string) => (s === "" ? [] : s.split(":"))
  const left = groupsOf(halves[0]!)
  const right = halves.length === 2 ? groupsOf(halves[1]!) : []
  if (![...left, ...right].every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined
  const fixed = left.length + right.length
  if (halves.length === 1 ? fixed !== 8 : fixed > 7) return undefined
  const zeros = Array<number>(8 - fixed).fill(0)
  return [...left, ...zeros.map(String), ...right].map((g) => Number.parseInt(g, 16))
}

export const parseIp = (host: string): IpAddress | undefined => {
  const h = host.replace(/^\[|\]$/g, "")
  if (h.includes(":")) {
    const groups = parseIpv6(h)
    return groups === undefined ? undefined : { v: 6, groups }
  }
  const n = parseIpv4(h)
  return n === undefined ? undefined : { v: 4, n }
}

const v4 = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d
const inV4 = (n: number, base: number, bits: number) => bits === 0 || Math.floor(n / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits))

/** IPv4 ranges that are not the public internet (RFC 6890 and friends), with why. */
const V4_BLOCKED: ReadonlyArray<readonly [number, number, string]> = [
  [v4(0, 0, 0, 0), 8, "this network (0.0.0.0/8)"],
  [v4(10, 0, 0, 0), 8, "private (10.0.0.0/8)"],
  [v4(100, 64, 0, 0), 10, "carrier-grade NAT (100.64.0.0/10)"],
  [v4(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"],
  [v4(169, 254, 0, 0), 16, "link-local (169.254.0.0/16, cloud metadata)"],
  [v4(172, 16, 0, 0), 12, "private (172.16.0.0/12)"],
  [v4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)"],
  [v4(192, 168, 0, 0), 16, "private (192.168.0.0/16)"],
  [v4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)"],
  [v4(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"],
  [v4(240, 0, 0, 0), 4, "reserved (240.0.0.0/4)"]
]

/** Why `ip` is not a public address, or undefined when it is. */
export const blockedReason = (ip: IpAddress): string | undefined => {
  if (ip.v === 4) return V4_BLOCKED.find(([base, bits]) => inV4(ip.n, base, bits))?.[2]
  const g = ip.groups
  const allZero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0)
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d, not :: or ::1) and NAT64 (64:ff9b::/96): the IPv4 inside decides
  const mapped = allZero(0, 5) && g[5] === 0xffff
  const compatible = allZero(0, 6) && !(g[6] === 0 && g[7]! <= 1)
  if (mapped || compatible) {
    const inner = blockedReason({ v: 4, n: g[6]! * 65536 + g[7]! })
    return inner === undefined ? undefined : `${inner}, written as IPv6`
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && allZero(2, 6)) {
    const inner = blockedReason({ v: 4, n: g[6]! * 65536 + g[7]! })
    return inner === undefined ? undefined : `${inner}, through NAT64`
  }
  if (allZero(0, 7) && g[7] === 1) return "loopback (::1)"
  if (allZero(0, 8)) return "unspecified (::)"
  if ((g[0]! & 0xfe00) === 0xfc00) return "unique local (fc00::/7)"
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local (fe80::/10)"
  if ((g[0]! & 0xffc0) === 0xfec0) return "site-local (fec0::/10)"
  if ((g[0]! & 0xff00) === 0xff00) return "multicast (ff00::/8)"
  return undefined
}

/** Host names that mean this machine or its network, whatever DNS says. */
const LOCAL_NAMES = /(^|\.)(localhost|localdomain|local|internal|home\.arpa)\.?$/i

/** One entry of `OUTBOUND_ALLOWED_TARGETS`: an exact `host:port`, or a CIDR. */
export type AllowedTarget =
  | { readonly kind: "host_port"; readonly host: string; readonly port: number }
  | { readonly kind: "cidr"; readonly ip: IpAddress; readonly bits: number }

/** Parses `OUTBOUND_ALLOWED_TARGETS` (comma-separated); the entries that do not parse, with why. */
export const parseAllowedTargets = (text: string): { readonly targets: ReadonlyArray<AllowedTarget>; readonly invalid: ReadonlyArray<string> } => {
  const targets: Array<AllowedTarget> = []
  const invalid: Array<string> = []
  for (const raw of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const cidr = /^(.+)\/(\d{1,3})$/.exec(raw)
    if (cidr !== null) {
      const ip = parseIp(cidr[1]!)
      const bits = Number(cidr[2])
      if (ip !== undefined && bits <= (ip.v === 4 ? 32 : 128)) targets.push({ kind: "cidr", ip, bits })
      else invalid.push(`${raw}: not a CIDR`)
      continue
    }
    const hp = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(raw)
    if (hp !== null && Number(hp[2]) <= 65535) targets.push({ kind: "host_port", host: hp[1]!.replace(/^\[|\]$/g, "").toLowerCase(), port: Number(hp[2]) })
    else invalid.push(`${raw}: neither host:port nor a CIDR`)
  }
  return { targets, invalid }
}

const inCidr = (ip: IpAddress, cidr: Extract<AllowedTarget, { kind: "cidr" }>): boolean => {
  if (ip.v !== cidr.ip.v) return false
  if (ip.v === 4 && cidr.ip.v === 4) return inV4(ip.n, cidr.ip.n, cidr.bits)
  const a = (ip as Extract<IpAddress, { v: 6 }>).groups
  const b = (cidr.ip as Extract<IpAddress, { v: 6 }>).groups
  for (let bit = 0; bit < cidr.bits; bit++) {
    const i = Math.floor(bit / 16)
    const mask = 1 << (15 - (bit % 16))
    if ((a[i]! & mask) !== (b[i]! & mask)) return false
  }
  return true
}

/** Whether the operator allowed this exact host and port (or the address's range). */
export const isAllowed = (targets: ReadonlyArray<AllowedTarget>, host: string, port: number, ip?: IpAddress): boolean =>
  targets.some((t) =>
    t.kind === "host_port"
      ? t.host === host.replace(/^\[|\]$/g, "").toLowerCase() && t.port === port
      : (ip ?? parseIp(host)) !== undefined && inCidr((ip ?? parseIp(host))!, t)
  )

export interface UrlVerdict {
  readonly ok: boolean
  /** Why it is refused, in plain language. */
  readonly reason?: string
}

/** The port a URL names (its scheme's default when it names none). */
export const portOf = (url: URL): number => (url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80)

/**
 * Whether a subscription may point at `text`, before any DNS: an absolute http(s) URL without
 * credentials, whose host is not an internal name or address in any spelling (or is allowed).
 */
export const checkTargetUrl = (text: string, allowed: ReadonlyArray<AllowedTarget>): UrlVerdict => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { ok: false, reason: "is not an absolute URL" }
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "must be an http(s) URL" }
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "must not carry credentials" }
  const host = url.hostname.toLowerCase()
  const port = portOf(url)
  if (isAllowed(allowed, host, port)) return { ok: true }
  // WHATWG URL parsing already turns decimal/hex/octal IPv4 spellings into dotted form;
  // parse what is left ourselves too, in case it did not
  const ip = parseIp(host)
  if (ip !== undefined) {
    const why = blockedReason(ip)
    return why === undefined ? { ok: true } : { ok: false, reason: `points at a ${why} address, which webhooks may not reach` }
  }
  if (LOCAL_NAMES.test(host) || !host.includes(".")) return { ok: false, reason: `points at ${host}, a name of this machine or its network` }
  return { ok: true }
}

/** Whether a delivery may go to `address` (one the URL's host resolved to). */
export const checkResolvedAddress = (address: string, host: string, port: number, allowed: ReadonlyArray<AllowedTarget>): UrlVerdict => {
  const ip = parseIp(address)
  if (ip === undefined) return { ok: false, reason: `${host} resolved to ${address}, which is not an IP address` }
  if (isAllowed(allowed, host, port, ip) || allowed.some((t) => t.kind === "cidr" && inCidr(ip, t))) return { ok: true }
  const why = blockedReason(ip)
  return why === undefined ? { ok: true } : { ok: false, reason: `${host} now resolves to ${address}, a ${why} address` }
}
