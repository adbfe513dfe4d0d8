/**
 * Whether a build is older than its sources, by modification time: what `--if-stale` asks in
 * scripts/build-admin.ts and scripts/build-server.ts, so `npm start` rebuilds only after an edit.
 */
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

/** The newest modification time at or under `path` (a directory's own counts: a deleted file changes it). */
const newestUnder = (path: string): number => {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newestUnder(join(path, name))), stat.mtimeMs)
}

/** True when `built` is missing or older than any file at or under `sources`. */
export const isStale = (built: string, sources: ReadonlyArray<string>): boolean => {
  let builtTime: number
  try {
    builtTime = statSync(built).mtimeMs
  } catch {
    return true
  }
  return sources.some((source) => newestUnder(source) > builtTime)
}
