/**
 * Builds the admin app (`admin/` → `admin/dist`, served under `/app` by the ingress) with Vite.
 * `npm install` runs it; `npm start` runs it with `--if-stale`, which builds only when a source
 * file is newer than the last build (so an edited screen shows up on the next start).
 */
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const admin = fileURLToPath(new URL("../admin", import.meta.url))
const built = join(admin, "dist", "index.html")

const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name)
    return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }, 0)

const sourcesTime = () => Math.max(newest(join(admin, "src")), statSync(join(admin, "index.html")).mtimeMs, statSync(join(admin, "vite.config.ts")).mtimeMs)
const builtTime = () => {
  try {
    return statSync(built).mtimeMs
  } catch {
    return 0
  }
}

if (process.argv.includes("--if-stale") && builtTime() >= sourcesTime()) process.exit(0)
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
