import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites start real servers; two cores do not gain from more workers.
    maxWorkers: 2,
    fileParallelism: true
  }
})
