/**
 * How a `sumeru start` process is run: Node's flags and the C library's settings it needs
 * before it starts, which only a new image of the process can take (`src/cli.ts` replaces
 * the process with itself under them: same pid, same stdio). Pure: no imports, so `cli.ts`
 * loads it before anything else.
 *
 * - V8's young generation capped at 2 × 16 MB semi-spaces, Node 20's size. Node 24's V8
 *   grows it to 2 × 64 MB under load, and a process that streams (a bulk job's snapshot, chunk
 *   uploads and result files; a busy worker) then holds up to 128 MB of young generation it
 *   has not needed since. `npm run bench:bulk`, the 1,000,000-product job's steps: peak 304 →
 *   194–205 MB, the same CPU; `npm run bench:pipeline` (10,000 shops, embedded log and
 *   JetStream on PostgreSQL, two interleaved runs each): the same CPU per message and p95 at
 *   1,000 and 2,000 msg/s, peak RSS under JetStream load 1.1–1.3 GB → 0.7–1.0 GB.
 * - On the embedded database, glibc's malloc mmap threshold fixed at 32 kB: see `cli.ts`.
 *
 * An operator's own semi-space size or `glibc.malloc` tunables are left as they are.
 */

/** Node's flag for the young generation's cap (each of its two semi-spaces, MB). */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=16"

/** glibc's malloc tunable for the embedded database's process. */
export const MALLOC_TUNABLE = "glibc.malloc.mmap_threshold=32768"

/**
 * The flags that cap the young generation for a Node process started with `execArgv` and
 * `nodeOptions` (NODE_OPTIONS): none when those already size it. Benchmarks start the
 * processes that stand for a worker with them too.
 */
export const youngGenerationFlags = (execArgv: ReadonlyArray<string>, nodeOptions: string): ReadonlyArray<string> =>
  [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag)) ? [] : [YOUNG_GENERATION_FLAG]

/**
 * The image a `start` process should run as, or null when it already runs as it should: the
 * Node flags to add before its own, and its environment.
 */
export const startImage = (options: {
  readonly execArgv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string | undefined>>
  /** On the embedded database (no `DATABASE_URL`). */
  readonly embedded: boolean
}): { readonly flags: ReadonlyArray<string>; readonly env: Record<string, string | undefined> } | null => {
  const flags = youngGenerationFlags(options.execArgv, options.env["NODE_OPTIONS"] ?? "")
  const tunables = options.env["GLIBC_TUNABLES"] ?? ""
  const malloc = options.embedded && !tunables.includes("glibc.malloc.")
  if (flags.length === 0 && !malloc) return null
  return {
    flags,
    env: malloc ? { ...options.env, GLIBC_TUNABLES: tunables === "" ? MALLOC_TUNABLE : `${tunables}:${MALLOC_TUNABLE}` } : { ...options.env }
  }
}
