/**
 * A benchmark's teardown steps (servers, temp dirs), undone in reverse order once: at the end
 * of the run, or on SIGINT/SIGTERM/SIGHUP, which then exits 130.
 */
export type CleanupStep = [name: string, run: () => Promise<void> | void]

export const makeCleanups = (options?: {
  /** Runs before the steps (say, kill a child still running). */
  readonly first?: () => void
  /** Runs when a signal arrives, before the cleanup. */
  readonly onSignal?: () => void
}) => {
  const steps: Array<CleanupStep> = []
  let running: Promise<void> | null = null
  const run = (): Promise<void> =>
    running ??= (async () => {
      options?.first?.()
      for (const [name, fn] of steps.reverse()) {
        try {
          await fn()
        } catch (e) {
          process.stderr.write(`cleanup of ${name} failed: ${String(e)}\n`)
        }
      }
      steps.length = 0
    })()
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      options?.onSignal?.()
      process.stderr.write(`\n${signal}: stopping servers and removing temp dirs...\n`)
      void run().finally(() => process.exit(130))
    })
  }
  return { steps, run }
}
