/**
 * The shop actor runtime. For every owned partition a fiber consumes the shop log and
 * dispatches each delivery to its shop's actor: one fiber per active shop with a bounded
 * mailbox, so a shop's messages are handled one at a time in log order while shops run in
 * parallel. Handling a message:
 *
 * 1. count the attempt durably (before the handler runs: a message that crashes the process
 *    is still dead-lettered after N tries, whatever the consumer's delivery count says);
 * 2. run the shop's handler → a decision (events, timers, after-commit effects);
 * 3. in one transaction: record the message id as handled — if it already was, nothing is
 *    written (a duplicate is a message whose id was applied, nothing else) — then append
 *    every event and store the timers (a log kept in the same database, the embedded one,
 *    has the message's row deleted there too: that commit is its ack);
 * 4. ack; start the after-commit effects.
 *
 * A transient failure is retried inside the actor with exponential backoff and jitter while
 * the message is kept alive (`working()`), so later messages of that shop wait behind it
 * (never nak'ed into reorder) and other shops carry on. After `maxAttempts`, or at once for
 * a permanent failure, the message is dead-lettered (`message.dead_lettered`) and the shop
 * moves on. Idle actors passivate: their memory is dropped.
 *
 * A partition is consumed in *incarnations*: each `log.consume` gets its own scope, actors
 * and bookkeeping, and when it ends (consumer lost, log restarted, a stuck message found)
 * its actors are stopped and its resources closed *before* the next incarnation replays the
 * unacked backlog — so two incarnations never read one partition at once, and nothing
 * delivered to an old one is left behind.
 *
 * Per-shop order does not rest on the consumer: a delivery names its *predecessor* (the
 * shop's latest message still in the log when it was published, `Delivery.predecessor`), and
 * a message whose predecessor is not handled yet is not applied. If the predecessor is still
 * in the log, the consumer has passed over it: it is reported stuck (reason `overtaken`) and
 * the partition is re-consumed, which redelivers both in order. If it is gone from the log
 * without being handled (removed by an operator, or by the stream's age limit), waiting
 * would wedge the shop for good: the message is applied, with a warning.
 *
 * Safety net: every `stuckCheckInterval` each incarnation compares the partition's oldest
 * unacked message with what it has handed out. A message the consumer has passed, that no
 * actor holds, on two checks in a row, is stuck (no consumer will deliver it again): it is
 * reported (log line with sequence and shop, `sumeru_stuck_messages_total`, `/readyz`
 * detail, reason `passed_over`) and the partition is re-consumed, which redelivers it in order.
 */
import { Cause, Context, Deferred, Duration, Effect, Exit, Fiber, FiberSet, Layer, Metric, Option, Queue, Random, Schedule, Schema, Scope, Stream } from "effect"
import { uuidV7Unsafe } from "effect/crypto/SecureRandom"
import { ActorFolds, makeFoldMemory, stampOccurredAt } from "./ActorFolds.ts"
import { ActorStore, PartitionNotOwned } from "./ActorStore.ts"
import { makeSignal } from "../eventstore/LogWakeups.ts"
import { makeTimerWakeups } from "./TimerWakeups.ts"
import { type Delivery, ShopLog, ShopLogUnavailable, type ShopMessage } from "../shoplog/ShopLog.ts"
import { currentTraceparent, noStack, spanOfTraceparent } from "../observability/TraceContext.ts"
import { type PartitionOwner, runOwnership } from "./PartitionOwnership.ts"
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
  /** How often each partition looks for a stuck message (see the safety net above). */
  readonly stuckCheckInterval?: Duration.Duration
  /** How long an orderly release (rebalance, shutdown) lets actors finish the message in hand. */
  readonly drainTimeout?: Duration.Duration
}

/** The timer loop's longest sleep: a timer committed elsewhere (another worker, a hand-over) fires at most this late. */
const MAX_TIMER_SLEEP_MS = 1000

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
export const stuckMessages = Metric.counter("sumeru_stuck_messages_total", {
  description: "Unacked messages their partition's consumer passed over (found held by nobody, or overtaken by a later message of their shop), then redelivered in order by re-consuming"
})
export const lateMessages = Metric.counter("sumeru_messages_applied_late_total", {
  description: "Messages applied after a later message of their shop (a per-shop order violation)"
})

interface Actor {
  readonly shop: string
  /** Who holds the partition's lock: the commit fence, and how to give the lock up. */
  readonly owner: PartitionOwner
  readonly mailbox: Queue.Queue<Delivery>
  readonly memory: Map<string, unknown>
  /** The shop's streams as its handlers folded them, carried forward by its commits (`ActorFolds.ts`). */
  readonly folds: ReturnType<typeof makeFoldMemory>
  closed: boolean
  /** Waiting out a retry backoff: nothing in hand to finish, so a release may stop it at once. */
  backingOff: boolean
  fiber: Fiber.Fiber<void, unknown> | undefined
}

/** One consumer incarnation of a partition, with what it has handed out. */
interface Incarnation {
  readonly owner: PartitionOwner
  readonly actors: Map<string, Actor>
  /**
   * Sequences dispatched and not yet finished (acked, or given up on), with how many copies
   * are in hand (a redelivery can queue a second copy behind the first).
   */
  readonly held: Map<number, number>
  /** The highest sequence dispatched: everything at or below it was handed out once. */
  highest: number
  /** A stuck candidate seen at the previous check (sequence), confirmed if seen again. */
  suspect: number | undefined
  /** Completed to end this incarnation (a stuck message: re-consume to redeliver it). */
  readonly restart: Deferred.Deferred<never, StuckMessage>
}

interface PartitionRun {
  readonly fiber: Fiber.Fiber<void, unknown>
  readonly state: { current: Incarnation | undefined; abandon: boolean }
}

/**
 * A message the partition's consumer passed over: found in the log held by nobody
 * (`passed_over`), or named as the predecessor of a later message of its shop that arrived
 * first (`overtaken`, with that message's sequence).
 */
export interface StuckReport {
  readonly partition: number
  readonly sequence: number
  readonly shop: string
  readonly reason: "passed_over" | "overtaken"
  readonly publishedAt?: string | undefined
  readonly overtakenBy?: number | undefined
  readonly detectedAt: string
}

class StuckMessage extends Schema.TaggedError<StuckMessage>()("StuckMessage", {
  partition: Schema.Number,
  sequence: Schema.Number,
  shop: Schema.String
}) {}

/** Live view of the runtime for health and tests. */
export class ShopActorRuntime extends Context.Service<ShopActorRuntime, {
  readonly workerId: string
  readonly ownedPartitions: () => ReadonlyArray<number>
  readonly residentActors: () => number
  /** Stuck messages found since start (the latest 20), for `/readyz`. */
  readonly stuckMessages: () => { readonly total: number; readonly recent: ReadonlyArray<StuckReport> }
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
    const stuckCheckInterval = options?.stuckCheckInterval ?? Duration.seconds(15)
    const drainTimeout = options?.drainTimeout ?? Duration.seconds(30)
    const partitionsRun = new Map<number, PartitionRun>()
    const effects = yield* FiberSet.make()
    const timerSignal = makeSignal()
    const timerWakeups = makeTimerWakeups(MAX_TIMER_SLEEP_MS)
    const runtimeScope = yield* Scope.Scope
    const stuck = { total: 0, recent: [] as Array<StuckReport> }

    const countResident = () => {
      let n = 0
      for (const run of partitionsRun.values()) n += run.state.current?.actors.size ?? 0
      return n
    }

    const metadataOf = (m: ShopMessage) => ({
      correlationId: m.correlationId ?? m.messageId,
      causationId: m.messageId,
      actor: { kind: "system" as const, id: workerId }
    })

    /**
     * Step 3: the decision and the fence, committed together (batched with other shops'). The
     * events remember this span: the projections continue the message's trace from them.
     */
    const commit = (owner: PartitionOwner, d: Delivery, decision: Decision) =>
      Effect.gen(function*() {
        const traceparent = yield* currentTraceparent
        const status = yield* actorStore.commit({
          message: d.message,
          sequence: d.sequence,
          partition: d.partition,
          ownerPid: owner.fence,
          appends: decision.appends,
          schedule: decision.schedule ?? [],
          cancelTimers: decision.cancelTimers ?? [],
          metadata: { ...metadataOf(d.message), traceparent },
          logSequence: d.ackedByCommit === undefined ? undefined : d.sequence
        })
        if (decision.schedule !== undefined && decision.schedule.some((t) => timerWakeups.wakesFor(t.at.getTime()))) yield* timerSignal.notify
        return status
      }).pipe(Effect.withSpan("ActorStore.commit", { attributes: { shop: d.message.shop, "message.id": d.message.messageId } }, noStack))

    const deadLetter = (d: Delivery, error: string, attempts: number, permanent: boolean) =>
      actorStore.deadLetter({ message: d.message, sequence: d.sequence, error, attempts, permanent, metadata: metadataOf(d.message) }).pipe(
        Effect.map((written) => written ? "dead_lettered" as const : "duplicate" as const)
      )

    /**
     * Acks a finished delivery. An ack that cannot be sent (the log unreachable, or the
     * delivery's incarnation gone) is given up after a few tries: the message stays in the
     * log, comes back (redelivery or the next incarnation) and is then a duplicate. Retrying
     * it forever would hold the shop's mailbox on a message that is already applied.
     */
    const ack = (d: Delivery) =>
      d.ack.pipe(
        Effect.retry({ times: 2, schedule: Schedule.spaced(Duration.millis(200)) }),
        Effect.catch((e) =>
          Effect.logWarning(
            `ack of message ${d.message.messageId} (sequence ${d.sequence}, partition ${d.partition}) failed; ` +
              "it stays in the log and will be skipped as a duplicate when it comes back",
            e
          )
        )
      )

    /** Records a stuck message and ends the incarnation, so the partition is re-consumed. */
    const reportStuck = (inc: Incarnation, report: StuckReport) =>
      Effect.gen(function*() {
        stuck.total++
        stuck.recent.push(report)
        if (stuck.recent.length > 20) stuck.recent.shift()
        yield* Metric.update(Metric.withAttributes(stuckMessages, { partition: String(report.partition), reason: report.reason }), 1)
        yield* Effect.logError(
          report.reason === "passed_over"
            ? `message at sequence ${report.sequence} of ${report.shop} (partition ${report.partition}, published ${report.publishedAt}) ` +
              "is in the log but its consumer has passed it and no actor holds it; re-consuming the partition to redeliver it in order"
            : `message at sequence ${report.overtakenBy} of ${report.shop} (partition ${report.partition}) arrived before its ` +
              `predecessor at sequence ${report.sequence}, which is still in the log: the consumer passed over it; ` +
              "re-consuming the partition to deliver both in order",
          report
        )
        yield* Deferred.fail(inc.restart, new StuckMessage({ partition: report.partition, sequence: report.sequence, shop: report.shop }))
      })

    /** Drops what an actor remembers: it is read again from the store when next needed. */
    const forget = (actor: Actor) => {
      actor.memory.clear()
      actor.folds.clear()
    }

    /** Handles one delivery to completion: applied, skipped as duplicate, or dead-lettered. */
    const handleDelivery = (inc: Incarnation, actor: Actor, d: Delivery) =>
      Effect.gen(function*() {
        const memory: ActorMemory = {
          get: <A>(key: string) => actor.memory.get(key) as A | undefined,
          set: (key, value) => void actor.memory.set(key, value)
        }
        let keepAlive: Fiber.Fiber<unknown> | undefined
        // a commit that returned deleted the message's row of a log in the store's database
        let ackedByCommit = false
        const outcome = yield* Effect.gen(function*() {
          let predecessor = d.predecessor
          for (let round = 1;; round++) {
            const { applied, attempts, waiting } = yield* actorStore.begin(d.message, d.sequence, predecessor)
            if (applied) return "duplicate" as const
            if (waiting && predecessor !== undefined) {
              if (yield* log.isQueued(d.partition, predecessor)) {
                // Not acked: the re-consumed partition delivers the predecessor, then this.
                yield* reportStuck(inc, {
                  partition: d.partition,
                  sequence: predecessor,
                  shop: actor.shop,
                  reason: "overtaken",
                  overtakenBy: d.sequence,
                  detectedAt: new Date().toISOString()
                })
                return yield* Effect.interrupt
              }
              yield* Effect.logWarning(
                `message ${d.message.messageId} (sequence ${d.sequence}, partition ${d.partition}) of ${actor.shop}: its predecessor ` +
                  `at sequence ${predecessor} was removed from the log without being handled (by an operator, or the stream's age ` +
                  "limit); applying this one rather than waiting for it forever"
              )
              predecessor = undefined
              continue
            }
            if (attempts > maxAttempts) {
              return yield* deadLetter(d, "gave up after repeated attempts (the worker may have crashed while handling it)", attempts - 1, false)
            }
            if (d.message.type === "shoplog.undecodable") {
              return yield* deadLetter(d, "undecodable message body", attempts, true)
            }
            const exit = yield* Effect.exit(Effect.gen(function*() {
              const decided = yield* handlers.handle({ shop: actor.shop, message: d.message, sequence: d.sequence, attempt: attempts, memory }).pipe(
                Effect.provideService(ActorFolds, actor.folds.service)
              )
              const decision = { ...decided, appends: stampOccurredAt(decided.appends, new Date()) }
              const status = yield* commit(actor.owner, d, decision)
              return { decision, status }
            }))
            if (Exit.isSuccess(exit)) {
              ackedByCommit = d.ackedByCommit !== undefined
              if (exit.value.status === "already_applied") {
                forget(actor) // the handler's optimistic state was not committed
                return "duplicate" as const
              }
              actor.folds.committed(exit.value.decision.appends)
              if (exit.value.decision.afterCommit) yield* FiberSet.run(effects, exit.value.decision.afterCommit)
              if (exit.value.status === "applied_late") {
                yield* Metric.update(lateMessages, 1)
                yield* Effect.logError(
                  `message ${d.message.messageId} (sequence ${d.sequence}, partition ${d.partition}) of ${actor.shop} was applied ` +
                    "after a later message of its shop: per-shop order was violated (applied anyway; nothing is skipped)"
                )
                return "applied_out_of_order" as const
              }
              return "applied" as const
            }
            const failure = Cause.findErrorOption(exit.cause)
            forget(actor) // state may be stale (e.g. a concurrency conflict): reload lazily
            const error = errorText(exit.cause)
            if (failure._tag === "Some" && failure.value instanceof PartitionNotOwned) {
              // The partition's lock is gone: another worker may own it now. Nothing was
              // written; give the lock session up (every partition is abandoned, then
              // re-acquired on a new one) and leave the message to the log.
              yield* Effect.logWarning(`partition ${d.partition} is no longer ours (${error}); stopping`)
              yield* actor.owner.giveUp(`a commit found partition ${d.partition}'s lock gone`)
              return yield* Effect.interrupt
            }
            if (failure._tag === "Some" && failure.value instanceof PermanentFailure) {
              return yield* deadLetter(d, error, attempts, true)
            }
            if (attempts >= maxAttempts) {
              return yield* deadLetter(d, error, attempts, false)
            }
            yield* actorStore.recordError(d.message, error)
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
        }).pipe(
          // Infrastructure failures (database down) retry the message, never drop it.
          Effect.retry({ schedule: Schedule_infra }),
          Effect.ensuring(Effect.suspend(() => keepAlive ? Fiber.interrupt(keepAlive) : Effect.void))
        )
        yield* (ackedByCommit ? d.ackedByCommit! : ack(d))
        yield* Metric.update(Metric.withAttributes(messagesHandled, { partition: String(d.partition), outcome }), 1)
        if (outcome === "dead_lettered") yield* Metric.update(deadLetters, 1)
        const publishedAt = d.message.publishedAt ? Date.parse(d.message.publishedAt) : NaN
        if (!Number.isNaN(publishedAt)) {
          yield* Metric.update(handlingLatency, Math.max(0, Date.now() - publishedAt) / 1000)
        }
      }).pipe(
        Effect.annotateLogs({ shop: actor.shop, correlation: d.message.correlationId ?? d.message.messageId }),
        // continues the publisher's trace (the route that accepted a webhook, a job step…)
        Effect.withSpan("ShopActor.handle", {
          kind: "consumer",
          parent: Option.getOrUndefined(spanOfTraceparent(d.message.traceparent)),
          attributes: {
            shop: actor.shop,
            "message.type": d.message.type,
            "message.id": d.message.messageId,
            "shoplog.partition": d.partition,
            "shoplog.sequence": d.sequence
          }
        }, noStack)
      )

    const runActor = (inc: Incarnation, actor: Actor) =>
      Effect.gen(function*() {
        for (;;) {
          const next = yield* Queue.take(actor.mailbox).pipe(Effect.timeoutOption(idleTimeout))
          if (next._tag === "None") {
            // Passivate only when nothing is queued; checked and removed synchronously so a
            // dispatcher can never offer into a mailbox nobody reads.
            const stop = yield* Effect.sync(() => {
              if (Queue.sizeUnsafe(actor.mailbox) > 0) return false
              actor.closed = true
              if (inc.actors.get(actor.shop) === actor) inc.actors.delete(actor.shop)
              return true
            })
            if (stop) return
            continue
          }
          const d = next.value
          yield* handleDelivery(inc, actor, d).pipe(Effect.ensuring(Effect.sync(() => {
            const copies = (inc.held.get(d.sequence) ?? 1) - 1
            if (copies > 0) inc.held.set(d.sequence, copies)
            else inc.held.delete(d.sequence)
          })))
        }
      })

    const dispatch = (inc: Incarnation, scope: Scope.Scope, d: Delivery) =>
      Effect.gen(function*() {
        const shop = d.message.shop
        inc.held.set(d.sequence, (inc.held.get(d.sequence) ?? 0) + 1)
        if (d.sequence > inc.highest) inc.highest = d.sequence
        // No yield between the lookup and the offer: passivation can't slip in between.
        const existing = inc.actors.get(shop)
        if (existing !== undefined && !existing.closed) {
          if (Queue.offerUnsafe(existing.mailbox, d)) return
          // Full mailbox: wait (an actor never passivates with a non-empty mailbox).
          yield* Queue.offer(existing.mailbox, d)
          return
        }
        const mailbox = yield* Queue.bounded<Delivery>(mailboxCapacity)
        const actor: Actor = { shop, owner: inc.owner, mailbox, memory: new Map(), folds: makeFoldMemory(shop), closed: false, backingOff: false, fiber: undefined }
        Queue.offerUnsafe(mailbox, d)
        inc.actors.set(shop, actor)
        actor.fiber = yield* Effect.forkIn(runActor(inc, actor), scope)
      })

    /**
     * Ends an incarnation's actors. Orderly (release, a consumer lost): every actor finishes
     * the message in its hands, under one bound — cutting it off between its commit and its
     * ack, or between counting its attempt and its outcome, leaves work for the next owner (a
     * redelivery to skip, an attempt that counts towards dead-lettering). Abandoned (the
     * partition lock is gone: another worker may own the partition now): everything stops at
     * once. Either way, what mailboxes buffer is dropped: it is unacked, so the next
     * incarnation (or owner) gets it again, in order. An actor waiting out a retry backoff is
     * stopped at once (its failed attempt is recorded; the next owner retries).
     */
    const stopActors = (inc: Incarnation, abandon: boolean) =>
      Effect.gen(function*() {
        const actors = [...inc.actors.values()]
        for (const actor of actors) {
          actor.closed = true
          yield* Queue.shutdown(actor.mailbox)
        }
        for (const actor of actors) {
          if ((abandon || actor.backingOff) && actor.fiber) yield* Fiber.interrupt(actor.fiber)
        }
        yield* Effect.forEach(actors, (actor) => actor.fiber ? Fiber.await(actor.fiber) : Effect.void, { concurrency: "unbounded", discard: true }).pipe(
          Effect.timeoutOption(drainTimeout)
        )
      })

    /**
     * The safety net, for one incarnation: the partition's oldest unacked message, when the
     * consumer has passed it and no actor holds it on two checks in a row, is stuck.
     */
    const watchStuck = (partition: number, inc: Incarnation) =>
      Effect.gen(function*() {
        const oldest = yield* log.oldestUnacked(partition).pipe(Effect.option, Effect.map(Option.flatten))
        if (Option.isNone(oldest)) return void (inc.suspect = undefined)
        const m = oldest.value
        // Passed over: the consumer handed out later messages but not this one, or it holds
        // nothing at all while this one waits (a consumer that skipped it with nothing newer
        // coming: the load may be over).
        const passed = !inc.held.has(m.sequence) && (m.sequence <= inc.highest || inc.held.size === 0)
        if (!passed) return void (inc.suspect = undefined)
        if (inc.suspect !== m.sequence) return void (inc.suspect = m.sequence)
        yield* reportStuck(inc, {
          partition,
          sequence: m.sequence,
          shop: m.shop,
          reason: "passed_over",
          publishedAt: m.publishedAt.toISOString(),
          detectedAt: new Date().toISOString()
        })
      }).pipe(
        Effect.andThen(Effect.sleep(stuckCheckInterval)),
        Effect.forever,
        Effect.delay(stuckCheckInterval)
      )

    /** One incarnation: consume until the stream fails or a stuck message ends it. */
    const incarnation = (partition: number, owner: PartitionOwner, state: PartitionRun["state"]) =>
      Effect.scoped(Effect.gen(function*() {
        const scope = yield* Effect.scope
        const inc: Incarnation = { owner, actors: new Map(), held: new Map(), highest: 0, suspect: undefined, restart: yield* Deferred.make<never, StuckMessage>() }
        state.current = inc
        const deliveries = yield* log.consume(partition)
        yield* Effect.forkIn(watchStuck(partition, inc), scope)
        yield* Stream.runForEach(deliveries, (d) => dispatch(inc, scope, d)).pipe(
          // A consume stream only ends when its scope closes: ending earlier is a failure.
          Effect.andThen(Effect.fail(new ShopLogUnavailable({ operation: `consume(${partition})`, cause: new Error("consumer ended") }))),
          Effect.raceFirst(Deferred.await(inc.restart)),
          // actors finish (or stop) before the scope closes the consumer and interrupts them
          Effect.onExit(() => stopActors(inc, state.abandon))
        )
      }))

    const acquire = (partition: number, owner: PartitionOwner) =>
      Effect.gen(function*() {
        const state: PartitionRun["state"] = { current: undefined, abandon: false }
        const consume = incarnation(partition, owner, state).pipe(
          Effect.tapCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.void
              : Effect.logError(`partition ${partition}: consumer ended (${errorText(cause)}); consuming it again`, cause)
          ),
          Effect.retry({ schedule: Schedule_infra })
        )
        const fiber = yield* Effect.forkIn(consume, runtimeScope)
        partitionsRun.set(partition, { fiber, state })
        yield* Metric.update(ownedPartitions, partitionsRun.size)
      })

    /**
     * Stops consuming `partition`. Orderly: actors finish the message in hand (bounded);
     * abandoned (`abandon`, the partition lock is lost): they stop at once. Messages still
     * queued in mailboxes are not handled here: they are not acked, so they stay in the log
     * and the next owner gets them, in order (re-acquiring replays the unacked backlog). That
     * keeps a shutdown or a hand-over short whatever the backlog in memory.
     */
    const release = (partition: number, abandon: boolean) =>
      Effect.gen(function*() {
        const run = partitionsRun.get(partition)
        if (run === undefined) return
        partitionsRun.delete(partition)
        run.state.abandon = abandon
        yield* Fiber.interrupt(run.fiber)
        yield* Metric.update(ownedPartitions, partitionsRun.size)
      })

    yield* Effect.forkIn(
      Effect.scoped(runOwnership({ workerId, partitions: log.partitions }, {
        acquire,
        release: (p) => release(p, false),
        abandon: (p) => release(p, true)
      })).pipe(
        Effect.tapCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError("ownership loop failed; restarting", cause)),
        // A lost lock session (database restart, network cut) has already abandoned every
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
     * Durable timers: due timers of owned partitions (`ActorStore.dueTimers`) are published to
     * the shop log (the timer id is the message id, so a timer fired twice is applied once),
     * then deleted. Sleeps until the next due time, at most a second after the scan began, or
     * until a commit stores a timer due before then (`TimerWakeups.ts`).
     */
    const fireTimers = Effect.gen(function*() {
      const owned = [...partitionsRun.keys()]
      const waiter = yield* timerSignal.next
      timerWakeups.scanStarted(Date.now())
      if (owned.length > 0) {
        const due = yield* actorStore.dueTimers(owned, 500)
        for (const t of due) {
          yield* log.publish(t.message)
          yield* actorStore.deleteTimer(t.id)
        }
        if (due.length === 500) return
      }
      const next = yield* actorStore.nextTimerDueIn(owned)
      yield* Deferred.await(waiter).pipe(Effect.timeoutOption(Duration.millis(timerWakeups.sleepFor(Date.now(), next))))
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
      residentActors: countResident,
      stuckMessages: () => ({ total: stuck.total, recent: [...stuck.recent] })
    })
  })


/**
 * The runtime for the life of the layer. Its backends come from the composition root: the
 * `ActorStore` (`adapters/postgres/PgActorStore.ts`) and the `PartitionLeases` that share the
 * partitions among workers (`adapters/postgres/PgPartitionLeases.ts`, or the embedded
 * database's single process).
 */
export const layer = (options?: RuntimeOptions) => Layer.effect(ShopActorRuntime, make(options))
