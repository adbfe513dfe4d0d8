/**
 * The Google Search Console Search Analytics API simulator (see `simulator.ts`):
 * `searchanalytics.query` with Google's validation, error shapes and data lag, over fact rows a
 * test gives (or `demoSearchRows` generates).
 */
export { demoSearchRows, googleError, startSearchConsoleSimulator } from "./simulator.ts"
export type {
  DemoSearchRowsOptions,
  RunningSearchConsoleSimulator,
  SearchConsoleSimulatorOptions,
  SearchConsoleSite,
  SearchDevice,
  SearchDimension,
  SearchFactRow
} from "./simulator.ts"
