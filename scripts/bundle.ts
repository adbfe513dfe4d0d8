/**
 * How Sumeru's code is bundled to run (rolldown, the bundler Vite ships): for Node, as ES
 * modules, tree-shaken and minified, names kept (stack traces and `constructor.name` read as
 * in the source), a source map beside each file. PGlite stays outside: it loads its
 * WebAssembly and data files from beside its own module. `scripts/build-server.ts` builds the
 * server `npm start` runs with it, and benchmarks build themselves with it to measure what
 * production runs (`scripts/bench-bulk.ts`).
 */
import { mkdirSync, rmSync } from "node:fs"

/** The bundler, a devDependency (none with `npm ci --omit=dev`). */
const loadRolldown = () => import("rolldown").catch(() => null)

/**
 * Bundles `input` (chunk name → entry module) into `dir`, emptied first. Put `dir` as many
 * directories below the repository's root as the entries are, so their paths relative to
 * `import.meta.url` (`migrations/`, `admin/dist/`, `package.json`) hold in the bundle.
 * False when no bundler is installed.
 */
export const bundle = async (input: Readonly<Record<string, string>>, dir: string): Promise<boolean> => {
  const rolldown = await loadRolldown()
  if (rolldown === null) return false
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  await rolldown.build({
    input: { ...input },
    platform: "node",
    // PGlite: see above; rolldown: a bundled benchmark does not bundle itself again
    external: [/^@electric-sql\/pglite(\/|$)/, /^rolldown(\/|$)/],
    logLevel: "warn",
    output: { dir, format: "esm", minify: true, keepNames: true, sourcemap: true }
  })
  return true
}
