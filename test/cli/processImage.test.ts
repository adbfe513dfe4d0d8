/**
 * How `sumeru start` runs (`src/cli/processImage.ts`): V8's young generation capped unless the
 * operator sized it, and on the embedded database glibc's mmap threshold fixed unless the
 * operator set glibc's malloc tunables; nothing to change once both hold (no loop of new
 * images). The running servers' command lines and environments are checked in cli.test.ts and
 * embedded.test.ts.
 */
import { describe, expect, it } from "vitest"
import { MALLOC_TUNABLE, startImage, YOUNG_GENERATION_FLAG } from "../../src/cli/processImage.ts"

describe("the image a start process runs as", () => {
  it("caps the young generation on PostgreSQL, leaving the environment as it is", () => {
    const env = { DATABASE_URL: "postgres://x", PATH: "/bin" }
    expect(startImage({ execArgv: [], env, embedded: false })).toEqual({ flags: [YOUNG_GENERATION_FLAG], env })
  })

  it("also fixes glibc's mmap threshold on the embedded database, beside the operator's other tunables", () => {
    expect(startImage({ execArgv: [], env: { PATH: "/bin" }, embedded: true })).toEqual({
      flags: [YOUNG_GENERATION_FLAG],
      env: { PATH: "/bin", GLIBC_TUNABLES: MALLOC_TUNABLE }
    })
    expect(startImage({ execArgv: [], env: { GLIBC_TUNABLES: "glibc.pthread.rseq=0" }, embedded: true })?.env["GLIBC_TUNABLES"]).toBe(
      `glibc.pthread.rseq=0:${MALLOC_TUNABLE}`
    )
  })

  it("keeps the operator's own young generation size and malloc tunables", () => {
    for (const sized of [{ execArgv: ["--max-semi-space-size=64"], options: "" }, { execArgv: ["--max_semi_space_size=8"], options: "" }, { execArgv: [], options: "--enable-source-maps --max-semi-space-size=32" }]) {
      expect(startImage({ execArgv: sized.execArgv, env: { NODE_OPTIONS: sized.options }, embedded: false })).toBeNull()
      expect(startImage({ execArgv: sized.execArgv, env: { NODE_OPTIONS: sized.options, GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }, embedded: true })).toBeNull()
    }
    expect(startImage({ execArgv: [], env: { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }, embedded: true })).toEqual({
      flags: [YOUNG_GENERATION_FLAG],
      env: { GLIBC_TUNABLES: "glibc.malloc.arena_max=2" }
    })
  })

  it("has nothing to change in the image it made", () => {
    const first = startImage({ execArgv: [], env: {}, embedded: true })!
    expect(startImage({ execArgv: [...first.flags], env: first.env, embedded: true })).toBeNull()
    const pg = startImage({ execArgv: ["--enable-source-maps"], env: {}, embedded: false })!
    expect(startImage({ execArgv: [...pg.flags, "--enable-source-maps"], env: pg.env, embedded: false })).toBeNull()
  })
})
