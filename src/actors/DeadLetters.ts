/**
 * The messages shop actors gave up on (port), for operators: listing them and marking one
 * re-driven once its message was published again (`sumeru deadletters`). The actors write dead
 * letters through `ActorStore.deadLetter`; the PostgreSQL implementation lives in
 * `adapters/postgres/PgDeadLetters.ts`.
 */
import { Context } from "effect"
import type { Effect, Option } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { ShopMessage } from "../shoplog/ShopLog.ts"

export interface DeadLetter {
  readonly id: number
  readonly shop: string
  readonly messageId: string
  /** The message as it was handled (its original id). */
  readonly message: ShopMessage
  readonly error: string
  readonly attempts: number
  /** Given up on at once (a permanent failure), not after repeated attempts. */
  readonly permanent: boolean
  readonly deadAt: Date
  readonly redrivenAt: Date | null
  /** The message id it was re-driven under. */
  readonly redriveId: string | null
}

export class DeadLetters extends Context.Service<DeadLetters, {
  /** In id order; `shop` null for every shop; re-driven ones only with `includeRedriven`. */
  readonly list: (filter: { readonly shop: string | null; readonly includeRedriven: boolean }) => Effect.Effect<ReadonlyArray<DeadLetter>, SqlError>
  readonly get: (id: number) => Effect.Effect<Option.Option<DeadLetter>, SqlError>
  /** How many dead letters of this shop and message id were already re-driven. */
  readonly countRedriven: (shop: string, messageId: string) => Effect.Effect<number, SqlError>
  /** Records that dead letter `id` was re-driven (now) under the message id `redriveId`. */
  readonly markRedriven: (id: number, redriveId: string) => Effect.Effect<void, SqlError>
}>()("sumeru/actors/DeadLetters") {}
