/**
 * The shop log: the durable, partitioned inbox of every shop actor. One port, two backends:
 * NATS JetStream (`adapters/nats/JetStreamShopLog.ts`) and the embedded log in the database
 * (`adapters/embedded/EmbeddedShopLog.ts`). Semantics both must honour:
 * - `publish` resolves only once the message is durably accepted (invariant 3);
 * - messages of one shop are delivered in publish order, within its partition;
 * - a message is redelivered until acked; acks happen after the actor's commit;
 * - re-acquiring a partition redelivers its unacked backlog in the original order;
 * - publishing the same `messageId` twice within the dedupe window is reported as duplicate.
 *
 * Each `consume` is one *incarnation* of the partition's consumer: a new one replays the
 * unacked backlog from its oldest message, and nothing addressed to an earlier incarnation
 * (a pull still in flight, a late ack) can take messages from it or move it past one.
 */
import { Context, Schema } from "effect"
import type { Effect, Option, Scope, Stream } from "effect"

export interface ShopMessage {
  readonly shop: string
  /** Dedupe key: the same id is the same message (webhook event id, Flow run id, timer id…). */
  readonly messageId: string
  /** A type of the catalog (`domain/messages/ShopMessages.ts`), or of a test's own handlers. */
  readonly type: string
  /** The schema version of `payload` (absent: 1); older versions are upcast on read. */
  readonly version?: number | undefined
  readonly payload: unknown
  readonly correlationId?: string | undefined
  /** When the message was first published (set by the publisher, kept on redelivery). */
  readonly publishedAt?: string | undefined
  /**
   * W3C trace context of the span that published it (set by the log from the current span
   * when absent): the actor continues that trace (`src/observability/TraceContext.ts`).
   */
  readonly traceparent?: string | undefined
}

export interface Delivery {
  readonly message: ShopMessage
  readonly partition: number
  /** Position in the log; increases with publish order, so per shop too. */
  readonly sequence: number
  /** How many times this copy was delivered (resets when a consumer is re-created). */
  readonly deliveryCount: number
  /**
   * The sequence of the shop's latest message that was still in the log when this one was
   * published (0: none), as the log itself guaranteed at publish time; undefined where the log
   * does not track it (the embedded log, which cannot deliver out of order). The actor applies
   * this message only once that one is handled: the per-shop order does not rest on the
   * consumer never skipping a message.
   */
  readonly predecessor?: number | undefined
  /** Keeps the message from being redelivered while a handler (or its retries) runs. */
  readonly working: Effect.Effect<void>
  /** Removes the message from the log. Call only after its effects are committed. */
  readonly ack: Effect.Effect<void, ShopLogUnavailable>
  /**
   * Set by a log kept in the actor store's own database (the embedded log): the actor's
   * commit deletes the message's row itself (`CommitItem.logSequence`), and this settles the
   * delivery afterwards without another statement. Use it instead of `ack` only once a commit
   * carrying the sequence has returned.
   */
  readonly ackedByCommit?: Effect.Effect<void> | undefined
}

/** A message still in the log: where it is and whose it is. */
export interface UnackedMessage {
  readonly sequence: number
  readonly shop: string
  readonly publishedAt: Date
}

export interface PublishAck {
  readonly sequence: number
  readonly duplicate: boolean
  readonly partition: number
}

/** The log could not be reached or did not confirm durability. Callers answer 503. */
export class ShopLogUnavailable extends Schema.TaggedError<ShopLogUnavailable>()("ShopLogUnavailable", {
  operation: Schema.String,
  cause: Schema.Defect()
}) {}

export class ShopLog extends Context.Service<ShopLog, {
  readonly partitions: number
  readonly publish: (message: ShopMessage) => Effect.Effect<PublishAck, ShopLogUnavailable>
  /**
   * Consumes one partition from its oldest unacked message, in order, until the scope
   * closes. Only the partition's owner may call this (see `PartitionOwnership`).
   */
  readonly consume: (partition: number) => Effect.Effect<Stream.Stream<Delivery, ShopLogUnavailable>, ShopLogUnavailable, Scope.Scope>
  /** Whether the log is reachable (for /readyz). */
  readonly ping: Effect.Effect<void, ShopLogUnavailable>
  /** Messages waiting (published, not acked) per partition, for lag metrics. */
  readonly pending: Effect.Effect<ReadonlyMap<number, number>, ShopLogUnavailable>
  /**
   * The oldest message of `partition` still in the log (published, never acked), if any —
   * what the runtime's safety net compares with what its consumer has handed out.
   */
  readonly oldestUnacked: (partition: number) => Effect.Effect<Option.Option<UnackedMessage>, ShopLogUnavailable>
  /** Whether the message at `sequence` of `partition` is still in the log (published, not acked). */
  readonly isQueued: (partition: number, sequence: number) => Effect.Effect<boolean, ShopLogUnavailable>
}>()("sumeru/shoplog/ShopLog") {}
