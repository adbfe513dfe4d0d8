/**
 * Builds the server `npm start` runs: `src/cli.ts` and everything it loads, bundled into
 * `dist/server/cli.js` by rolldown (the bundler Vite ships), tree-shaken and minified.
 *
 * Why: V8 keeps the source of every loaded module for as long as the process lives (it compiles
 * functions lazily, from the source). Run from source, an idle `npm start` has loaded ~1,300
 * modules, and their source was ~45 MB of its heap in a heap snapshot; bundled, ~7 MB. Measured
 * with `npm run bench:footprint` (`BENCH_FOOTPRINT_FROM=source` for the other): V8 heap used
 * 88 → 54–60 MB, idle RSS after a restart 287 → 234–236 MB, after a first start 292 → 248 MB.
 *
 * - How it is bundled is `scripts/bundle.ts`: names are kept, so stack traces and
 *   `constructor.name` read as in the source. The source map is written beside the bundle;
 *   `NODE_OPTIONS=--enable-source-maps` maps traces back to our files and lines, at the cost
 *   of the maps in memory.
 * - The bundle sits two directories below the root, as the modules it bundles do (`src/cli/`,
 *   `adapters/postgres/`, `adapters/http/`), so their paths relative to `import.meta.url`
 *   (`migrations/`, `admin/dist/`, `package.json`) hold in it unchanged.
 * - The embedded database's initdb child (`adapters/postgres/pgliteInitdb.ts`) is an entry of its
 *   own, `dist/server/pgliteInitdb.js`, which the bundled `Database.ts` starts.
 *
 * `npm install` runs it; `npm start` runs it with `--if-stale`, which builds only when a source
 * file (or the lockfile, or this script) is newer than the last build. Without the
 * devDependencies (`npm ci --omit=dev`) there is no bundler: it writes a `cli.js` that loads the
 * server from source, so `npm start` still runs, as it did before there was a bundle.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { bundle } from "./bundle.ts"
import { isStale } from "./staleness.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const SERVER_DIST = join(root, "dist", "server")
const built = join(SERVER_DIST, "cli.js")
/** What the bundle is made of: our modules, the dependencies (the lockfile), and how it is built. */
const sources = [
  ...["src", "adapters", "domain", "projections", "migrations", "package-lock.json"].map((p) => join(root, p)),
  fileURLToPath(import.meta.url),
  fileURLToPath(new URL("bundle.ts", import.meta.url))
]

if (process.argv.includes("--if-stale") && !isStale(built, sources)) process.exit(0)
const started = Date.now()
// the bundler is loaded only when there is something to build
const bundled = await bundle({
  cli: join(root, "src", "cli.ts"),
  pgliteInitdb: join(root, "adapters", "postgres", "pgliteInitdb.ts")
}, SERVER_DIST)
if (!bundled) {
  rmSync(SERVER_DIST, { recursive: true, force: true })
  mkdirSync(SERVER_DIST, { recursive: true })
  writeFileSync(built, `// no bundler installed (npm ci --omit=dev): the server runs from source\nimport "../../src/cli.ts"\n`)
  console.log("server not bundled: rolldown is not installed (install the devDependencies); dist/server/cli.js runs it from source")
  process.exit(0)
}
console.log(`server bundled into dist/server in ${((Date.now() - started) / 1000).toFixed(1)} s`)
