/**
 * A shop actor's folds of its own streams (`src/actors/ActorFolds.ts`): kept between messages and
 * carried forward by the actor's commits, so a warm shop's trigger reads nothing back — and
 * decides exactly as a fresh read would. The memory itself, then the decision plane through real
 * actors on PostgreSQL: a cooldown started by one trigger holds for the next, and a rule disabled
 * through the actor is not dispatched to, both decided from the carried-forward folds.
 */
import { Effect, Schema, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { NewEvent } from "../../domain/events/Envelope.ts"
import { ActorFolds, forgetFolds, keepNewStream, loadFolded, makeFoldMemory, stampOccurredAt } from "../../src/actors/ActorFolds.ts"
import type { Append } from "../../src/actors/ShopHandlers.ts"
import { automationStreamId } from "../../src/automation/AutomationFold.ts"
import { type AppendFold, EventStore } from "../../src/eventstore/EventStore.ts"
import { type AdminApi, type AdminServer, sessionFor, startWithRule } from "../support/adminApi.ts"
import { exampleRuleJson } from "../support/automation.ts"

const SHOP = "folds.myshopify.com"

/** Records what each event looked like to the fold. */
const seen: AppendFold<ReadonlyArray<{ type: string; data: unknown; at: string; version: number }>> = {
  name: "seen",
  version: 1,
  initial: () => [],
  evolve: (state, e) => [...state, { type: e.type, data: e.data, at: e.occurredAt.toISOString(), version: e.streamVersion }],
  schema: Schema.Array(Schema.Struct({ type: Schema.String, data: Schema.Unknown, at: Schema.String, version: Schema.Number }))
}

const at = new Date("2026-12-07T10:00:00.000Z")
const event = (type: string, data: unknown, extra: Partial<NewEvent> = {}): NewEvent => ({ type, data, occurredAt: at, ...extra })
const append = (streamId: string, expected: Append["expected"], events: ReadonlyArray<NewEvent>): Append => ({ streamId, expected, events })

describe("an actor's memory of its folds", () => {
  it("carries a kept fold forward with what was committed, as a reader of the stream would see it", () => {
    const memory = makeFoldMemory(SHOP)
    expect(memory.service.get("s", seen)).toBeUndefined()
    memory.service.keep("s", seen, { state: [], version: 2 })
    memory.committed([append("s", 2, [event("a", { when: new Date(at), gone: undefined, n: 1 }), event("b", undefined)]), append("other", "any", [event("x", {})])])
    expect(memory.service.get("s", seen)).toEqual({
      version: 4,
      unsaved: 2,
      // the data as JSON keeps it: a date is its string, an undefined field is gone, no data is null
      state: [{ type: "a", data: { when: at.toISOString(), n: 1 }, at: at.toISOString(), version: 3 }, { type: "b", data: null, at: at.toISOString(), version: 4 }]
    })
    expect(memory.service.get("other", seen)).toBeUndefined() // never folded here: not invented
    memory.committed([append("s", "any", [event("c", 1)])])
    expect(memory.service.get("s", seen)?.version).toBe(5)
  })

  it("forgets a fold it cannot carry forward exactly: another expectation, an event with its own id, another fold version", () => {
    const memory = makeFoldMemory(SHOP)
    memory.service.keep("s", seen, { state: [], version: 2 })
    memory.committed([append("s", 7, [event("a", 1)])])
    expect(memory.service.get("s", seen)).toBeUndefined()
    memory.service.keep("s", seen, { state: [], version: 0 })
    memory.committed([append("s", "no_stream", [event("a", 1)])])
    expect(memory.service.get("s", seen)?.version).toBe(1)
    memory.committed([append("s", 1, [event("b", 1, { eventId: "0193a5b0-0000-7000-8000-000000000000" })])]) // a repeat may add nothing
    expect(memory.service.get("s", seen)).toBeUndefined()
    memory.service.keep("s", seen, { state: [], version: 3 })
    expect(memory.service.get("s", { ...seen, version: 2 })).toBeUndefined()
    memory.clear()
    expect(memory.service.get("s", seen)).toBeUndefined()
  })

  it("a fold that throws while carried forward is forgotten, with every other (read again from the store)", () => {
    const memory = makeFoldMemory(SHOP)
    const brittle: typeof seen = { ...seen, name: "brittle", evolve: () => { throw new Error("not total") } }
    memory.service.keep("s", seen, { state: [], version: 1 })
    memory.service.keep("t", brittle, { state: [], version: 1 })
    memory.committed([append("s", 1, [event("a", 1)]), append("t", 1, [event("a", 1)])])
    expect([memory.service.get("s", seen), memory.service.get("t", brittle)]).toEqual([undefined, undefined])
  })

  it("keeps at most 64 streams, dropping the least recently used", () => {
    const memory = makeFoldMemory(SHOP)
    for (let i = 0; i < 64; i++) memory.service.keep(`s${i}`, seen, { state: [], version: i })
    expect(memory.service.get("s0", seen)?.version).toBe(0) // used: now the most recent
    memory.service.keep("s64", seen, { state: [], version: 64 })
    expect(memory.service.get("s1", seen)).toBeUndefined()
    expect(memory.service.get("s0", seen)?.version).toBe(0)
    expect(memory.service.get("s64", seen)?.version).toBe(64)
  })

  it("forgetFolds drops the running actor's folds (privacy: shredded keys), and is nothing outside an actor", async () => {
    const memory = makeFoldMemory(SHOP)
    memory.service.keep("s", seen, { state: [], version: 1 })
    await Effect.runPromise(forgetFolds)
    expect(memory.service.get("s", seen)?.version).toBe(1)
    await Effect.runPromise(forgetFolds.pipe(Effect.provideService(ActorFolds, memory.service)))
    expect(memory.service.get("s", seen)).toBeUndefined()
  })

  it("keepNewStream: a stream the actor knows to be empty is kept as its fold's start, without overriding a fold already kept; nothing outside an actor", async () => {
    const memory = makeFoldMemory(SHOP)
    await Effect.runPromise(keepNewStream("new", seen).pipe(Effect.provideService(ActorFolds, memory.service)))
    expect(memory.service.get("new", seen)).toEqual({ state: [], version: 0, unsaved: 0 })
    // carried forward by the first commit to it, as a load of the empty stream would have been
    memory.committed([append("new", "no_stream", [event("a", 1)])])
    expect(memory.service.get("new", seen)?.version).toBe(1)
    await Effect.runPromise(keepNewStream("new", seen).pipe(Effect.provideService(ActorFolds, memory.service)))
    expect(memory.service.get("new", seen)?.version).toBe(1)
    await Effect.runPromise(keepNewStream("elsewhere", seen)) // no actor: nothing to tell
  })

  it("stamps the events without a time before the commit, and leaves the others alone", () => {
    const now = new Date("2026-12-07T11:00:00.000Z")
    const stamped = stampOccurredAt([append("s", "any", [event("a", 1), { type: "b", data: 2 }])], now)
    expect(stamped[0]!.events.map((e) => e.occurredAt)).toEqual([at, now])
    const whole = [append("s", "any", [event("a", 1)])]
    expect(stampOccurredAt(whole, now)).toBe(whole)
  })
})

const ops = () => sessionFor(SHOP, "ops-1")

describe("the decision plane on the actor's folds (PostgreSQL 15, real actors)", () => {
  let api: AdminApi
  let server: AdminServer
  let ruleId: string

  beforeAll(async () => {
    ({ api, server, ruleId } = await startWithRule(SHOP, { ...exampleRuleJson, name: "Tag once an hour", condition: null, quiet_hours: null, cooldown_seconds: 3600 }))
  })

  afterAll(async () => {
    await api?.close()
  })

  const draft = async (n: number): Promise<string> => {
    const res = await api.call(server, "POST", "/app/triggers/product.drafted/emit", ops(), {
      resources: [{
        resourceType: "product", resourceId: `gid://shopify/Product/${n}`,
        payload: { title: `P${n}`, vendor: "Acme", productType: null, tags: [], status: "draft", previousStatus: "active", updatedAt: "2026-12-01T10:00:00Z" }
      }]
    })
    expect(res.status, res.text).toBe(202)
    return res.json.trigger_id
  }

  const outcomesOf = (triggerId: string) =>
    api.run(Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readStream(automationStreamId(SHOP))))).then((events) =>
      [...events].filter((e) => (e.data as { triggerId?: string }).triggerId === triggerId).map((e) => [e.type, (e.data as { reason?: string }).reason ?? null])
    )

  it("a warm fold is not read again, and every 100 events carried forward the actor writes its snapshot", async () => {
    const streamId = `seen-${SHOP}`
    const memory = makeFoldMemory(SHOP)
    let loads = 0
    const load = Effect.gen(function*() {
      const store = yield* EventStore
      const counted = EventStore.of({ ...store, loadFold: (id, fold, options) => Effect.suspend(() => (loads++, store.loadFold(id, fold, options))) })
      return yield* loadFolded(streamId, seen).pipe(Effect.provideService(EventStore, counted), Effect.provideService(ActorFolds, memory.service))
    })
    expect(await api.run(load)).toEqual({ state: [], version: 0 })
    expect(await api.run(load)).toEqual({ state: [], version: 0 })
    expect(loads).toBe(1)
    memory.committed([append(streamId, "no_stream", Array.from({ length: 99 }, (_, i) => event("e", i)))])
    await api.run(load)
    const snapshot = () => api.run(Effect.flatMap(EventStore, (store) => store.loadSnapshot(streamId, seen)))
    expect(await snapshot()).toBeNull() // 99 carried: not yet
    memory.committed([append(streamId, 99, [event("e", 99)])])
    const folded = await api.run(load)
    expect([folded.version, loads]).toEqual([100, 1])
    const written = await snapshot()
    expect([written?.streamVersion, written?.state]).toEqual([100, folded.state])
    expect(memory.service.get(streamId, seen)?.unsaved).toBe(0)
  })

  it("a cooldown started by one trigger holds for the next; a rule disabled through the actor is no longer dispatched to", async () => {
    const first = await draft(1)
    await api.awaitExecution(SHOP, `${first}_${ruleId}_0`, "autoaction.applied")
    expect(await outcomesOf(first)).toEqual([["autoaction.requested", null]])

    const second = await draft(1)
    await api.awaitExecution(SHOP, `${second}_${ruleId}_0`)
    expect(await outcomesOf(second)).toEqual([["autoaction.skipped", "cooldown"]])

    const disabled = await api.call(server, "PATCH", `/app/rules/${ruleId}`, ops(), { enabled: false })
    expect([disabled.status, disabled.json.rule?.enabled], disabled.text).toEqual([200, false])
    const third = await draft(2)
    await api.awaitEvents([`triggers-${SHOP}`], (events) => events.some((e) => (e.data as { triggerId?: string }).triggerId === third))
    expect(await outcomesOf(third)).toEqual([]) // recorded in the same commit as the trigger, had it been dispatched
  })
})
