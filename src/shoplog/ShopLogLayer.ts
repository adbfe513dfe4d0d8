/** The shop log backend chosen by configuration: JetStream when `NATS_URL` is set, else embedded. */
import { Config, Effect, Layer, Option } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import * as EmbeddedShopLog from "../../adapters/embedded/EmbeddedShopLog.ts"
import * as JetStreamShopLog from "../../adapters/nats/JetStreamShopLog.ts"
import type { DatabaseMode } from "../../adapters/postgres/Database.ts"
import type { ShopLog } from "./ShopLog.ts"

export const layerFromConfig: Layer.Layer<ShopLog, unknown, SqlClient | DatabaseMode> = Layer.unwrap(Effect.gen(function*() {
  const url = yield* Config.option(Config.String("NATS_URL"))
  const chosen: Layer.Layer<ShopLog, unknown, SqlClient | DatabaseMode> = Option.isSome(url) && url.value !== ""
    ? JetStreamShopLog.layerConfig
    : EmbeddedShopLog.layerConfig
  return chosen
}))
