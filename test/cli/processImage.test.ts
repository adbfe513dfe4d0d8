/**
 * How `sumeru start` runs (`src/cli/processImage.ts`): V8's young generation capped unless the
 * operator sized it, and glibc's mmap threshold fixed unless the operator set glibc's malloc
 * tunables; nothing to change once both hold (no loop of new images). The running servers'
 * command lines and environments are checked in cli.test.ts (PostgreSQL) and embedded.test.ts.
 */
import { describe, expect, it } from "vitest"
import { MALLOC_TUNABLE, startImage, YOUNG_GENERATION_FLAG } from "../../src/cli/processImage.ts"

describe("the image a start process runs as", () => {
  it("caps the young generation and fixes glibc's mmap threshold, keeping the rest of the environment", () => {
    const env = { DATABASE_URL: "postgres://x", PATH: "/bin" }
    expect(startImage({ execArgv: [], env })).toEqual({ flags: [YOUNG_GENERATION_FLAG], env: { ...env, GLIBC_TUNABLES: MALLOC_TUNABLE } })
    expect(startImage({ execArgv: [], env: { PATH: "/bin" } })).toEqual({ flags: [YOUNG_GENERATION_FLAG], env: { PATH: "/bin", GLIBC_TUNABLES: MALLOC_TUNABLE } })
  })

  it("adds the threshold beside the operator's other tunables", () => {
    expect(startImage({ execArgv: [], env: { GLIBC_TUNABLES: "glibc.pthread.rseq=0" } })?.env["GLIBC_TUNABLES"]).toBe(`glibc.pthread.rseq=0:${MALLOC_TUNABLE}`)
  })

  it("keeps the operator's own young generation size and malloc tunables", () => {
    for (const sized of [{ execArgv: ["--max-semi-space-size=64"], options: "" }, { execArgv: ["--max_semi_space_size=8"], options: "" }, { execArgv: [], options: "--enable-source-maps --max-semi-space-size=32" }]) {
      expect(startImage({ execArgv: sized.execArgv, env: { NODE_OPTIONS: sized.options, GLIBC_TUNABLES: "glibc.malloc.arena_max=2" } })).toBeNull()
      expect(startImage({ execArgv: sized.execArgv, env: { NODE_OPTIONS: sized.options } })).toEqual({
        flags: [],
        env: { NODE_OPTIONS: sized.options, GLIBC_TUNABLES: MALLOC_TUNABLE }
      })
    }
    expect(startImage({ execArgv: [], env: { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" } })).toEqual({
      flags: [YOUNG_GENERATION_FLAG],
      env: { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }
    })
  })

  it("has nothing to change in the image it made", () => {
    const first = startImage({ execArgv: [], env: {} })!
    expect(startImage({ execArgv: [...first.flags], env: first.env })).toBeNull()
    const withOwnFlags = startImage({ execArgv: ["--enable-source-maps"], env: { DATABASE_URL: "postgres://x" } })!
    expect(startImage({ execArgv: [...withOwnFlags.flags, "--enable-source-maps"], env: withOwnFlags.env })).toBeNull()
  })
})
