/**
 * The shop actor runtime. For every owned partition a fiber consumes the shop log and
 * dispatches each delivery to its shop's actor: one fiber per active shop with a bounded
 * mailbox, so a shop's messages are handled one at a time in log order while shops run in
 * parallel. Handling a message:
 *
 * 1. count the attempt durably (before the handler runs: a message that crashes the process
 *    is still dead-lettered after N tries, whatever the consumer's delivery count says);
 * 2. run the shop's handler → a decision (events, timers, after-commit effects);
 * 3. in one transaction: advance the shop's fence (`shop_cursors.last_seq < seq`) and record
 *    the message id — if either says "already applied", nothing is written — then append
 *    every event and store the timers;
 * 4. ack; start the after-commit effects.
 *
 * A transient failure is retried inside the actor with exponential backoff and jitter while
 * the message is kept alive (`working()`), so later messages of that shop wait behind it
 * (never nak'ed into reorder) and other shops carry on. After `maxAttempts`, or at once for
 * a permanent failure, the message is dead-lettered (`message.dead_lettered`) and the shop
 * moves on. Idle actors passivate: their memory is dropped.
 */
import { Cause, Context, Deferred, Duration, Effect, Exit, Fiber, FiberSet, Layer, Metric, Queue, Random, Schedule, Scope, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { ActorStore } from "../../adapters/postgres/ActorStore.ts"
import { EventStore } from "../eventstore/EventStore.ts"
import { makeSignal } from "../eventstore/LogWakeups.ts"
import { type Delivery, ShopLog, type ShopMessage } from "../shoplog/ShopLog.ts"
import { runOwnership } from "./PartitionOwnership.ts"
import { type ActorMemory, type Decision, PermanentFailure, ShopHandlers } from "./ShopHandlers.ts"

export interface RuntimeOptions {
  readonly workerId?: string
  /** Attempts before a transiently failing message is dead-lettered. */
  readonly maxAttempts?: number
  readonly backoffBase?: Duration.Duration
  readonly backoffCap?: Duration.Duration
  /** An actor with an empty mailbox for this long is dropped from memory. */
  readonly idleTimeout?: Duration.Duration
  readonly mailboxCapacity?: number
  /** How often `working()` is sent for a message under retry (below the log's ack wait). */
  readonly heartbeat?: Duration.Duration
}

/** Retry schedule for infrastructure failures (database or log down): capped exponential. */
const Schedule_infra = Schedule.min([Schedule.exponential(Duration.millis(100)), Schedule.spaced(Duration.seconds(5))])

export const messagesHandled = Metric.counter("sumeru_messages_handled_total", {
  description: "Shop messages handled, by partition and outcome"
})
export const handlingLatency = Metric.histogram("sumeru_message_handling_seconds", {
  description: "Publish-to-commit latency of shop messages",
  boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
})
export const messageRetries = Metric.counter("sumeru_message_retries_total", { description: "Handler retries" })
export const deadLetters = Metric.counter("sumeru_dead_letters_total", { description: "Messages dead-lettered" })
export const ownedPartitions = Metric.gauge("sumeru_owned_partitions", { description: "Partitions this worker consumes" })
export const activeActors = Metric.gauge("sumeru_active_actors", { description: "Shop actors resident in memory" })

interface Actor {
  readonly shop: string
  readonly mailbox: Queue.Queue<Delivery>
  readonly memory: Map<string, unknown>
  closed: boolean
  /** Waiting out a retry backoff: nothing in hand to finish, so a release may stop it at once. */
  backingOff: boolean
  fiber: Fiber.Fiber<void, unknown> | undefined
}

interface PartitionRun {
  readonly actors: Map<string, Actor>
  readonly fiber: Fiber.Fiber<void, unknown>
  readonly scope: Scope.Closeable
}

/** Live view of the runtime for health and tests. */
export class ShopActorRuntime extends Context.Service<ShopActorRuntime, {
  readonly workerId: string
  readonly ownedPartitions: () => ReadonlyArray<number>
  readonly residentActors: () => number
}>()("sumeru/actors/ShopActorRuntime") {}

const errorText = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.findErrorOption(cause)
  if (failure._tag === "Some") {
    const e = failure.value as { _tag?: string; reason?: string; message?: string }
    return [e._tag, e.reason ?? e.message].filter(Boolean).join(": ") || String(failure.value)
  }
  return Cause.pretty(cause).split("\n")[0] ?? "defect"
}

export const make = (options?: RuntimeOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    const log = yield* ShopLog
    const handlers = yield* ShopHandlers
    const actorStore = yield* ActorStore
    const workerId = options?.workerId ?? `worker-${uuidV7Unsafe()}`
    const maxAttempts = options?.maxAttempts ?? 8
    const backoffBase = Duration.toMillis(options?.backoffBase ?? Duration.millis(500))
    const backoffCap = Duration.toMillis(options?.backoffCap ?? Duration.seconds(60))
    const idleTimeout = options?.idleTimeout ?? Duration.seconds(30)
    const mailboxCapacity = options?.mailboxCapacity ?? 1024
    const heartbeat = options?.heartbeat ?? Duration.seconds(10)
    const partitionsRun = new Map<number, PartitionRun>()
    const effects = yield* FiberSet.make()
    const timerSignal = makeSignal()
    const runtimeScope = yield* Scope.Scope

    const countResident = () => {
      let n = 0
      for (const run of partitionsRun.values()) n += run.actors.size
      return n
    }

    /** Step 3: the decision and the fence, committed together (batched with other shops'). */
    const commit = (d: Delivery, decision: Decision) =>
      Effect.tap(
        actorStore.commit({
          message: d.message,
          sequence: d.sequence,
          partition: d.partition,
          appends: decision.appends,
          schedule: decision.schedule ?? [],
          cancelTimers: decision.cancelTimers ?? [],
          metadata: {
            correlationId: d.message.correlationId ?? d.message.messageId,
            causationId: d.message.messageId,
            actor: { kind: "system", id: workerId }
          }
        }),
        () => (decision.schedule?.length ?? 0) > 0 ? timerSignal.notify : Effect.void
      )

    const deadLetter = (d: Delivery, error: string, attempts: number, permanent: boolean) =>
      sql.withTransaction(Effect.gen(function*() {
        const m = d.message
        yield* sql`
          INSERT INTO dead_letters (shop, message_id, message, error, attempts, permanent)
          VALUES (${m.shop}, ${m.messageId}, ${JSON.stringify(m)}::jsonb, ${error}, ${attempts}, ${permanent})`
        // advance the fence so a redelivery of this message is skipped
        yield* sql`
          INSERT INTO shop_cursors (shop, last_seq) VALUES (${m.shop}, ${d.sequence})
          ON CONFLICT (shop) DO UPDATE SET last_seq = greatest(shop_cursors.last_seq, excluded.last_seq), updated_at = now()`
        yield* sql`DELETE FROM message_attempts WHERE shop = ${m.shop} AND message_id = ${m.messageId}`
        yield* store.append(`deadletters-${m.shop}`, m.shop, "any", [{
          type: "message.dead_lettered",
          data: { messageId: m.messageId, messageType: m.type, error, attempts, permanent, sequence: d.sequence }
        }], { correlationId: m.correlationId ?? m.messageId, causationId: m.messageId, actor: { kind: "system", id: workerId } })
      }))

    /** Handles one delivery to completion: applied, skipped as duplicate, or dead-lettered. */
    const handleDelivery = (actor: Actor, d: Delivery) =>
      Effect.gen(function*() {
        const memory: ActorMemory = {
          get: <A>(key: string) => actor.memory.get(key) as A | undefined,
          set: (key, value) => void actor.memory.set(key, value)
        }
        let keepAlive: Fiber.Fiber<unknown> | undefined
        const outcome = yield* Effect.gen(function*() {
          for (let round = 1;; round++) {
            const { applied, attempts } = yield* actorStore.begin(d.message, d.sequence)
            if (applied) return "duplicate" as const
            if (attempts > maxAttempts) {
              yield* deadLetter(d, "gave up after repeated attempts (the worker may have crashed while handling it)", attempts - 1, false)
              return "dead_lettered" as const
            }
            if (d.message.type === "shoplog.undecodable") {
              yield* deadLetter(d, "undecodable message body", attempts, true)
              return "dead_lettered" as const
            }
            const exit = yield* Effect.exit(Effect.gen(function*() {
              const decision = yield* handlers.handle({ shop: actor.shop, message: d.message, sequence: d.sequence, attempt: attempts, memory })
              const status = yield* commit(d, decision)
              return { decision, status }
            }))
            if (Exit.isSuccess(exit)) {
              if (exit.value.status === "already_applied") {
                actor.memory.clear() // the handler's optimistic state was not committed
                return "duplicate" as const
              }
              if (exit.value.decision.afterCommit) yield* FiberSet.run(effects, exit.value.decision.afterCommit)
              return "applied" as const
            }
            const failure = Cause.findErrorOption(exit.cause)
            actor.memory.clear() // state may be stale (e.g. a concurrency conflict): reload lazily
            const error = errorText(exit.cause)
            if (failure._tag === "Some" && failure.value instanceof PermanentFailure) {
              yield* deadLetter(d, error, attempts, true)
              return "dead_lettered" as const
            }
            if (attempts >= maxAttempts) {
              yield* deadLetter(d, error, attempts, false)
              return "dead_lettered" as const
            }
            yield* sql`UPDATE message_attempts SET last_error = ${error} WHERE shop = ${d.message.shop} AND message_id = ${d.message.messageId}`
            yield* Metric.update(messageRetries, 1)
            yield* Effect.logWarning(`message ${d.message.messageId} of ${actor.shop} failed (attempt ${attempts}): ${error}; retrying`)
            if (keepAlive === undefined) {
              keepAlive = yield* Effect.forkChild(Effect.forever(Effect.andThen(d.working, Effect.sleep(heartbeat))))
            }
            const jitter = yield* Random.next
            const delay = Math.min(backoffCap, backoffBase * 2 ** (round - 1)) * (0.5 + jitter / 2)
            // Released meanwhile (shutdown, hand-over): don't wait out a backoff. The message
            // stays unacked in the log; the next owner retries it (its attempts are kept).
            if (actor.closed) return yield* Effect.interrupt
            actor.backingOff = true
            yield* Effect.sleep(Duration.millis(delay)).pipe(Effect.ensuring(Effect.sync(() => (actor.backingOff = false))))
          }
        }).pipe(Effect.ensuring(Effect.suspend(() => keepAlive ? Fiber.interrupt(keepAlive) : Effect.void)))
        yield* d.ack
        yield* Metric.update(Metric.withAttributes(messagesHandled, { partition: String(d.partition), outcome }), 1)
        if (outcome === "dead_lettered") yield* Metric.update(deadLetters, 1)
        const publishedAt = d.message.publishedAt ? Date.parse(d.message.publishedAt) : NaN
        if (!Number.isNaN(publishedAt)) {
          yield* Metric.update(handlingLatency, Math.max(0, Date.now() - publishedAt) / 1000)
        }
      }).pipe(
        Effect.annotateLogs({ shop: actor.shop, correlation: d.message.correlationId ?? d.message.messageId }),
        // Infrastructure failures (database down) retry the whole delivery, never drop it.
        Effect.retry({ schedule: Schedule_infra })
      )

    const runActor = (run: Map<string, Actor>, actor: Actor) =>
      Effect.gen(function*() {
        for (;;) {
          const next = yield* Queue.take(actor.mailbox).pipe(Effect.timeoutOption(idleTimeout))
          if (next._tag === "None") {
            // Passivate only when nothing is queued; checked and removed synchronously so a
            // dispatcher can never offer into a mailbox nobody reads.
            const stop = yield* Effect.sync(() => {
              if (Queue.sizeUnsafe(actor.mailbox) > 0) return false
              actor.closed = true
              if (run.get(actor.shop) === actor) run.delete(actor.shop)
              return true
            })
            if (stop) return
            continue
          }
          yield* handleDelivery(actor, next.value)
        }
      })

    const dispatch = (run: Map<string, Actor>, scope: Scope.Scope, d: Delivery) =>
      Effect.gen(function*() {
        const shop = d.message.shop
        // No yield between the lookup and the offer: passivation can't slip in between.
        const existing = run.get(shop)
        if (existing !== undefined && !existing.closed) {
          if (Queue.offerUnsafe(existing.mailbox, d)) return
          // Full mailbox: wait (an actor never passivates with a non-empty mailbox).
          yield* Queue.offer(existing.mailbox, d)
          return
        }
        const mailbox = yield* Queue.bounded<Delivery>(mailboxCapacity)
        const actor: Actor = { shop, mailbox, memory: new Map(), closed: false, backingOff: false, fiber: undefined }
        Queue.offerUnsafe(mailbox, d)
        run.set(shop, actor)
        actor.fiber = yield* Effect.forkIn(runActor(run, actor), scope)
      })

    const acquire = (partition: number) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const actors = new Map<string, Actor>()
        const consume = Effect.gen(function*() {
          const deliveries = yield* log.consume(partition)
          yield* Stream.runForEach(deliveries, (d) => dispatch(actors, scope, d))
        }).pipe(
          Scope.provide(scope),
          Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError(`partition ${partition} consumer failed; re-acquiring`, cause)),
          Effect.retry({ schedule: Schedule_infra })
        )
        const fiber = yield* Effect.forkIn(consume, runtimeScope)
        partitionsRun.set(partition, { actors, fiber, scope })
        yield* Metric.update(ownedPartitions, partitionsRun.size)
      })

    /**
     * Stop taking messages for `partition`, let every actor finish the message it is handling,
     * drop the actors. Messages still queued in mailboxes are not handled here: they are not
     * acked, so they stay in the log and the next owner gets them, in order (re-acquiring
     * replays the unacked backlog). That keeps a shutdown or a hand-over short whatever the
     * backlog in memory (up to the log's in-flight window per partition).
     */
    const release = (partition: number) =>
      Effect.gen(function*() {
        const run = partitionsRun.get(partition)
        if (run === undefined) return
        partitionsRun.delete(partition)
        yield* Fiber.interrupt(run.fiber)
        // The message in hand must finish: cutting it off between its commit and its ack, or
        // between counting its attempt and its outcome, leaves work for the next owner (a
        // redelivery to skip, an attempt that counts towards dead-lettering). A shut-down
        // mailbox drops what it buffers and ends its actor at the next take. An actor waiting
        // out a retry backoff is stopped at once (its failed attempt is recorded; the next
        // owner retries). All actors finish together, under one bound; stragglers are
        // interrupted by the scope and their message is redelivered to the next owner.
        const actors = [...run.actors.values()]
        for (const actor of actors) {
          actor.closed = true
          yield* Queue.shutdown(actor.mailbox)
        }
        for (const actor of actors) if (actor.backingOff && actor.fiber) yield* Fiber.interrupt(actor.fiber)
        yield* Effect.forEach(actors, (actor) => actor.fiber ? Fiber.await(actor.fiber) : Effect.void, { concurrency: "unbounded", discard: true }).pipe(
          Effect.timeoutOption(Duration.seconds(30))
        )
        yield* Scope.close(run.scope, Exit.void)
        yield* Metric.update(ownedPartitions, partitionsRun.size)
      })

    yield* Effect.forkIn(
      Effect.scoped(runOwnership({ workerId, partitions: log.partitions }, { acquire, release })).pipe(
        Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("ownership loop failed; restarting", cause)),
        // A lost lock session (database restart, network cut) has already released every
        // partition; start over on a new session instead of staying alive owning nothing.
        Effect.retry({ schedule: Schedule_infra })
      ),
      runtimeScope
    )
    yield* Effect.forkIn(
      Effect.forever(Effect.andThen(Effect.suspend(() => Metric.update(activeActors, countResident())), Effect.sleep(Duration.seconds(5)))),
      runtimeScope
    )

    /**
     * Durable timers: due `scheduled_messages` of owned partitions are published to the shop
     * log (the timer id is the message id, so a timer fired twice is applied once), then
     * deleted. Sleeps until the next due time, at most a second, or until a commit sets one.
     */
    const fireTimers = Effect.gen(function*() {
      const owned = [...partitionsRun.keys()]
      const waiter = yield* timerSignal.next
      if (owned.length > 0) {
        const due = yield* sql<{ id: string; message: ShopMessage }>`
          SELECT id, message FROM scheduled_messages
           WHERE partition = ANY(${owned}::int[]) AND due_at <= now()
           ORDER BY due_at LIMIT 500`
        for (const t of due) {
          yield* log.publish(t.message)
          yield* sql`DELETE FROM scheduled_messages WHERE id = ${t.id}`
        }
        if (due.length === 500) return
      }
      const next = yield* sql<{ ms: number | null }>`
        SELECT (extract(epoch FROM min(due_at) - now()) * 1000)::float8 AS ms FROM scheduled_messages
         WHERE partition = ANY(${owned}::int[])`
      const ms = Math.max(10, Math.min(1000, next[0]?.ms ?? 1000))
      yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.millis(ms)))
    })
    yield* Effect.forkIn(
      Effect.forever(fireTimers).pipe(
        Effect.tapCause((cause) => Effect.logError("timer loop failed; restarting", cause)),
        Effect.retry({ schedule: Schedule_infra })
      ),
      runtimeScope
    )

    return ShopActorRuntime.of({
      workerId,
      ownedPartitions: () => [...partitionsRun.keys()].sort((a, b) => a - b),
      residentActors: countResident
    })
  })


export const layer = (options?: RuntimeOptions) =>
  Layer.effect(ShopActorRuntime, make(options)).pipe(Layer.provide(ActorStore.layer))
