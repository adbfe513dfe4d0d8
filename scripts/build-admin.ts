/**
 * Builds the admin app (`admin/` → `admin/dist`, served under `/app` by the ingress) with Vite.
 * `npm install` runs it; `npm start` runs it with `--if-stale`, which builds only when a source
 * file is newer than the last build (so an edited screen shows up on the next start).
 */
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { isStale } from "./staleness.ts"

const admin = fileURLToPath(new URL("../admin", import.meta.url))
const built = join(admin, "dist", "index.html")

if (process.argv.includes("--if-stale") && !isStale(built, [join(admin, "src"), join(admin, "index.html"), join(admin, "vite.config.ts")])) process.exit(0)
const started = Date.now()
// loaded only when there is something to build: `npm start` pays nothing for an up-to-date build
const vite = await import("vite").catch(() => null)
if (vite === null) {
  // an install without devDependencies (`npm ci --omit=dev`): the image ships a build made elsewhere
  console.log("admin app not built: Vite is not installed (install the devDependencies, or ship admin/dist)")
  process.exit(0)
}
await vite.build({ configFile: join(admin, "vite.config.ts") })
console.log(`admin app built into admin/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`)
