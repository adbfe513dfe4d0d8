/**
 * `OutboundHttp` over `fetch`, guarded against SSRF (`domain/outbound/Ssrf.ts`): the URL is
 * checked, its host resolved (every address) and each address checked, unless the operator
 * allowed the target (`OUTBOUND_ALLOWED_TARGETS`: exact `host:port` entries or CIDRs, empty by
 * default). Redirects are not followed (a 3xx is the receiver's answer: an open redirect must not
 * lead a webhook inside). Each attempt is bounded by `OUTBOUND_TIMEOUT_MS`.
 *
 * Known limit: the address is checked, then `fetch` resolves the name again to connect; a DNS
 * answer that changes in between (rebinding within milliseconds) is not caught.
 */
import { Config, Effect, Layer, Schema } from "effect"
import { lookup } from "node:dns/promises"
import { type AllowedTarget, checkResolvedAddress, checkTargetUrl, parseAllowedTargets, parseIp, portOf } from "../../domain/outbound/Ssrf.ts"
import { OutboundHttp, OutboundRefused } from "../../src/outbound/OutboundHttp.ts"

export class OutboundUnreachable extends Schema.TaggedError<OutboundUnreachable>()("OutboundUnreachable", { reason: Schema.String }) {}

/** `OUTBOUND_ALLOWED_TARGETS` has entries that are neither `host:port` nor a CIDR. */
export class OutboundConfigInvalid extends Schema.TaggedError<OutboundConfigInvalid>()("OutboundConfigInvalid", { message: Schema.String }) {}

export interface FetchOutboundOptions {
  readonly allowed: ReadonlyArray<AllowedTarget>
  readonly timeoutMs: number
  readonly fetch?: typeof globalThis.fetch
  /** Name resolution (tests substitute it); every address of the host. */
  readonly resolve?: (host: string) => Promise<ReadonlyArray<string>>
}

const resolveAll = async (host: string) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

export const make = (options: FetchOutboundOptions): OutboundHttp["Service"] => {
  const doFetch = options.fetch ?? globalThis.fetch
  const resolve = options.resolve ?? resolveAll
  const checkUrl = (url: string) => {
    const v = checkTargetUrl(url, options.allowed)
    return v.ok ? undefined : `the URL ${v.reason}`
  }
  return OutboundHttp.of({
    checkUrl,
    post: (url, headers, body) =>
      Effect.gen(function*() {
        const refused = checkUrl(url)
        if (refused !== undefined) return yield* new OutboundRefused({ reason: refused })
        const target = new URL(url)
        const host = target.hostname.replace(/^\[|\]$/g, "")
        if (parseIp(host) === undefined) {
          const addresses = yield* Effect.tryPromise({
            try: () => resolve(host),
            catch: (e) => new OutboundUnreachable({ reason: `${host} does not resolve (${e instanceof Error ? e.message : String(e)})` })
          })
          for (const address of addresses) {
            const v = checkResolvedAddress(address, host, portOf(target), options.allowed)
            if (!v.ok) return yield* new OutboundRefused({ reason: v.reason ?? "refused" })
          }
        }
        const response = yield* Effect.tryPromise({
          try: (signal) =>
            doFetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", "user-agent": "Sumeru-Webhooks/1", ...headers },
              body,
              redirect: "manual",
              signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)])
            }),
          catch: (e) => new OutboundUnreachable({ reason: e instanceof Error && e.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : `no answer: ${e instanceof Error ? e.message : String(e)}` })
        })
        const text = yield* Effect.promise(() => response.text().catch(() => ""))
        return { status: response.status, excerpt: text.slice(0, 200) }
      })
  })
}

/** From configuration: `OUTBOUND_ALLOWED_TARGETS` (empty by default), `OUTBOUND_TIMEOUT_MS` (10 s). */
export const layer = Layer.effect(
  OutboundHttp,
  Effect.gen(function*() {
    const text = yield* Config.String("OUTBOUND_ALLOWED_TARGETS").pipe(Config.withDefault(""))
    const timeoutMs = yield* Config.Int("OUTBOUND_TIMEOUT_MS").pipe(Config.withDefault(10_000))
    const { targets, invalid } = parseAllowedTargets(text)
    if (invalid.length > 0) return yield* new OutboundConfigInvalid({ message: `OUTBOUND_ALLOWED_TARGETS: ${invalid.join("; ")}` })
    return make({ allowed: targets, timeoutMs })
  })
)
