/**
 * The simulator kit: what every protocol simulator under `src/simulator/<system>/` is built
 * on — a loopback HTTP server on a free port, per-test fault injection, a request log tests
 * assert on, deterministic ids and a controllable clock. See README.md.
 */
export { startSimulatorServer, instrument } from "./SimulatorServer.ts"
export type { FetchHandler, InstrumentOptions, InstrumentedHandler, SimulatorServer, SimulatorServerOptions } from "./SimulatorServer.ts"
export { FaultQueue, Hangs, HttpFaults, faultResponse, genericErrorBody } from "./Faults.ts"
export type { DefaultErrorBody, FaultOptions, HttpFaultOptions, HttpMatch } from "./Faults.ts"
export type { HttpFault } from "./HttpFault.ts"
export { RequestLog, exchangesTo, jsonBody } from "./RequestLog.ts"
export type { HttpExchange, RequestLogOptions } from "./RequestLog.ts"
export { DeterministicIds, makeIds, uuidFrom, hash32, prng, seedOf, BASE62 } from "./DeterministicIds.ts"
export { makeClock, fixedClock, realClock, systemClock, DEFAULT_FIXED_TIME } from "./SimulatedClock.ts"
export type { Clock, SimulatedClock } from "./SimulatedClock.ts"
