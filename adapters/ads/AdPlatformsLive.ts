/**
 * The ad platforms' clients, one per platform per process (their per-account buckets are shared
 * by every caller in it), at the platforms' real origins unless configured otherwise (the
 * simulators in tests and the demo): `GOOGLE_ADS_API_URL`, `GOOGLE_ADS_API_VERSION` (v26),
 * `META_GRAPH_URL`, `META_GRAPH_API_VERSION` (v25.0), `TIKTOK_API_URL`.
 */
import { Config, Effect, Layer } from "effect"
import { type AdPlatformClient, type AdPlatformName, AdPlatforms } from "../../src/ads/AdPlatform.ts"
import { makeGoogleAdsClient } from "./google/GoogleAdsClient.ts"
import { makeMetaAdsClient } from "./meta/MetaAdsClient.ts"
import { makeTikTokAdsClient } from "./tiktok/TikTokAdsClient.ts"

export interface AdPlatformsOptions {
  readonly google: { readonly baseUrl: string; readonly apiVersion: string }
  readonly meta: { readonly baseUrl: string; readonly apiVersion: string }
  readonly tiktok: { readonly baseUrl: string }
  readonly fetch?: typeof globalThis.fetch
}

export const make = (options: AdPlatformsOptions): AdPlatforms["Service"] => {
  const fetchOption = options.fetch === undefined ? {} : { fetch: options.fetch }
  const clients: Record<AdPlatformName, AdPlatformClient> = {
    google: makeGoogleAdsClient({ ...options.google, ...fetchOption }),
    meta: makeMetaAdsClient({ ...options.meta, ...fetchOption }),
    tiktok: makeTikTokAdsClient({ ...options.tiktok, ...fetchOption })
  }
  return AdPlatforms.of({ client: (platform) => clients[platform] })
}

export const layerOptions = (options: AdPlatformsOptions) => Layer.succeed(AdPlatforms, make(options))

export const layer = Layer.effect(
  AdPlatforms,
  Effect.gen(function*() {
    return make({
      google: {
        baseUrl: yield* Config.String("GOOGLE_ADS_API_URL").pipe(Config.withDefault("https://googleads.googleapis.com")),
        apiVersion: yield* Config.String("GOOGLE_ADS_API_VERSION").pipe(Config.withDefault("v26"))
      },
      meta: {
        baseUrl: yield* Config.String("META_GRAPH_URL").pipe(Config.withDefault("https://graph.facebook.com")),
        apiVersion: yield* Config.String("META_GRAPH_API_VERSION").pipe(Config.withDefault("v25.0"))
      },
      tiktok: { baseUrl: yield* Config.String("TIKTOK_API_URL").pipe(Config.withDefault("https://business-api.tiktok.com")) }
    })
  })
)
