/**
 * One run of a chaos scenario: a fresh cluster (its own database and stream on the suite's
 * servers), the NATS tap, the webhook load with a fault injector running beside it, then the
 * verdict (`verify.ts`). A failing run throws the whole diagnostic and keeps the processes'
 * logs; a passing one removes them (unless CHAOS_KEEP_LOGS=1).
 */
import { type ChaosServers, CHAOS_APP_SECRET, type Cluster, startCluster } from "./cluster.ts"
import { knobs } from "./knobs.ts"
import { type LoadReport, runLoad } from "./load.ts"
import { startTap } from "./tap.ts"
import { describeRun, makeTimeline, type Timeline, verify } from "./verify.ts"

export interface FaultContext {
  readonly servers: ChaosServers
  readonly cluster: Cluster
  readonly timeline: Timeline
  /** True once every webhook has been answered (or given up). */
  readonly loadDone: () => boolean
}

/**
 * Injects faults while the load runs; resolves when it is done (every process and server back
 * up) with the reasons, if any, why the run did not test what it should (say, the fault came
 * after the load): those fail the run too, after the verdict.
 */
export type FaultInjector = (ctx: FaultContext) => Promise<ReadonlyArray<string>>

/** A random delay in [min, max] ms — chooses WHEN to inject a fault; never used to wait for a state. */
export const randomDelay = (min: number, max: number): Promise<number> => {
  const ms = Math.round(min + Math.random() * (max - min))
  return new Promise((resolve) => setTimeout(() => resolve(ms), ms))
}

/** Until the (randomly chosen) moment `at` (epoch ms) to inject a fault; at once if it passed. */
export const delayUntil = (at: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))

export interface ScenarioResult {
  readonly load: LoadReport
  readonly timeline: ReadonlyArray<string>
}

let counter = 0

export const runScenario = async (servers: ChaosServers, name: string, inject: FaultInjector): Promise<ScenarioResult> => {
  const tag = `${name.replace(/[^a-z0-9]/gi, "").toLowerCase()}_${process.pid}_${Date.now().toString(36)}_${counter++}`
  const cluster = await startCluster(servers, { partitions: knobs.partitions, tag })
  let passed = false
  try {
    const timeline = makeTimeline()
    const tap = await startTap({
      natsUrl: cluster.natsUrl,
      streamName: cluster.streamName,
      subjectPrefix: cluster.subjectPrefix,
      now: timeline.since
    })
    try {
      let done = false
      timeline.note(`load started: ${knobs.messages} webhooks, ${knobs.shops} shops, ${knobs.rate}/s, ${knobs.partitions} partitions`)
      const loading = runLoad({
        url: cluster.ingress().url,
        secret: CHAOS_APP_SECRET,
        shops: knobs.shops,
        messages: knobs.messages,
        rate: knobs.rate,
        tag
      }).finally(() => {
        done = true
        timeline.note("load finished")
      })
      const faults = inject({ servers, cluster, timeline, loadDone: () => done })
      const [load, injected] = await Promise.allSettled([loading, faults])
      if (load.status === "rejected") throw load.reason
      // A failed injection (say, the workers never took every partition back) is a finding
      // too: the verdict still runs, for the whole picture.
      const problems = [
        ...(injected.status === "rejected"
          ? [`the system did not recover from the faults: ${injected.reason instanceof Error ? injected.reason.message : String(injected.reason)}`]
          : injected.value.map((reason) => `the run did not test what it should: ${reason}`)),
        ...(await verify({ scenario: name, cluster, load: load.value, tap, timeline, timeoutMs: 90_000 }))
      ]
      if (problems.length > 0) {
        const run = describeRun({ scenario: name, cluster, load: load.value, timeline })
        throw new Error(`chaos scenario "${name}" failed:\n${problems.map((p) => `- ${p}`).join("\n")}\n${run}`)
      }
      passed = true
      // Repairs the workers made on the way (each a message their consumer passed over).
      const errors = cluster.history().flatMap((p) => p.errorLines())
      const overtaken = errors.filter((l) => l.includes("arrived before its predecessor")).length
      const passedOver = errors.filter((l) => l.includes("its consumer has passed it")).length
      console.info(`chaos ${name}: ${load.value.accepted.length} webhooks accepted in ${(load.value.durationMs / 1000).toFixed(1)}s, ` +
        `answers ${JSON.stringify(load.value.answers)}, all recorded once and in order; ` +
        `stuck messages repaired: ${overtaken} overtaken, ${passedOver} passed over\n${timeline.entries().map((e) => `  ${e}`).join("\n")}`)
      return { load: load.value, timeline: timeline.entries() }
    } finally {
      await tap.close()
    }
  } finally {
    await cluster.stop(!passed || knobs.keepLogs)
  }
}
