/**
 * How a `sumeru start` process is run: Node's flags and the C library's settings it needs
 * before it starts, which only a new image of the process can take (`src/cli.ts` replaces
 * the process with itself under them: same pid, same stdio). Pure: no imports, so `cli.ts`
 * loads it before anything else. Benchmarks start the processes that stand for a server with
 * the same image ({@link startImage}).
 *
 * - V8's young generation capped at 2 × 16 MB semi-spaces, Node 20's size. Node 24's V8
 *   grows it to 2 × 64 MB under load, and a process that streams (a bulk job's snapshot, chunk
 *   uploads and result files; a busy worker) then holds up to 128 MB of young generation it
 *   has not needed since. `npm run bench:bulk`, the 1,000,000-product job's steps: peak 304 →
 *   194–205 MB, the same CPU; `npm run bench:pipeline` (10,000 shops, embedded log and
 *   JetStream on PostgreSQL, two interleaved runs each): the same CPU per message and p95 at
 *   1,000 and 2,000 msg/s, peak RSS under JetStream load 1.1–1.3 GB → 0.7–1.0 GB.
 * - glibc's malloc mmap threshold fixed at 32 kB. glibc raises it as large blocks are freed
 *   (up to 32 MB); blocks below it come from the heap and, once freed, mostly stay resident
 *   as fragments. On PGlite that kept its start-up memory (initdb, WebAssembly compilation):
 *   ~120 MB for the life of the server (see `cli.ts`). On PostgreSQL, the bulk job's result
 *   files (64 kB socket reads, the parser's blocks): the 1,000,000-product job's steps peaked
 *   at 203–205 MB with ~40 MB of that free heap, 175–179 MB with the threshold fixed (at 128 kB:
 *   191 MB; `arena_max=2` instead: 191 MB). A worker pays it nowhere measurable: `bench:pipeline`,
 *   interleaved runs, CPU per message 1.47–1.54 → 1.52 ms at 1,000 msg/s, 0.55 → 0.55–0.56 at a
 *   saturated 3,000 msg/s on the embedded log, 1.09–1.10 → 1.11 at 1,500 msg/s on JetStream.
 *
 * An operator's own semi-space size or `glibc.malloc` tunables are left as they are.
 */

/** Node's flag for the young generation's cap (each of its two semi-spaces, MB). */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=16"

/** glibc's malloc tunable of a server process. */
export const MALLOC_TUNABLE = "glibc.malloc.mmap_threshold=32768"

/**
 * The image a `start` process should run as, or null when it already runs as it should: the
 * Node flags to add before its own (`execArgv`; `NODE_OPTIONS` is read from `env`), and its
 * environment.
 */
export const startImage = (options: {
  readonly execArgv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string | undefined>>
}): { readonly flags: ReadonlyArray<string>; readonly env: Record<string, string | undefined> } | null => {
  const sized = [...options.execArgv, ...(options.env["NODE_OPTIONS"] ?? "").split(/\s+/)].some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag))
  const flags = sized ? [] : [YOUNG_GENERATION_FLAG]
  const tunables = options.env["GLIBC_TUNABLES"] ?? ""
  const malloc = !tunables.includes("glibc.malloc.")
  if (flags.length === 0 && !malloc) return null
  return {
    flags,
    env: malloc ? { ...options.env, GLIBC_TUNABLES: tunables === "" ? MALLOC_TUNABLE : `${tunables}:${MALLOC_TUNABLE}` } : { ...options.env }
  }
}
