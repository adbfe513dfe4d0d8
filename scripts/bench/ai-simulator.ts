/**
 * The AI simulator in a process of its own, for `npm run bench:ai`: the providers are remote in
 * production, so their side of each call must not take the measured process's CPU. Prints one
 * JSON line (`{ "url": … }`) once listening; stops when its stdin closes.
 */
import { startAiSimulator } from "../../src/simulator/ai/index.ts"

const sim = await startAiSimulator({ seed: "bench" })
console.log(JSON.stringify({ url: sim.url }))
process.stdin.on("close", () => void sim.stop().then(() => process.exit(0)))
process.stdin.resume()
