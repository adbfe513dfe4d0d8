/**
 * Upcasters turn an event stored under an older schema version into the current shape,
 * on read. Stored events are never rewritten (the log is immutable); readers always see
 * the latest version of each event type.
 */

/** Converts the data of `type` at version `from` into version `from + 1`. */
export interface Upcaster {
  readonly type: string
  readonly from: number
  readonly upcast: (data: unknown) => unknown
}

export interface UpcasterRegistry {
  /** Upcasts `data` of `type` stored at `version` to the newest version known. */
  readonly apply: (type: string, version: number, data: unknown) => { readonly version: number; readonly data: unknown }
}

/**
 * Builds a registry from a list of single-step upcasters. Steps chain: v1→v2→v3.
 * Two upcasters for the same (type, from) are a programming error and throw at build time.
 */
export const makeUpcasterRegistry = (upcasters: ReadonlyArray<Upcaster>): UpcasterRegistry => {
  const steps = new Map<string, (data: unknown) => unknown>()
  for (const u of upcasters) {
    const key = `${u.type}@${u.from}`
    if (steps.has(key)) throw new Error(`Duplicate upcaster for ${key}`)
    steps.set(key, u.upcast)
  }
  return {
    apply: (type, version, data) => {
      let v = version
      let d = data
      for (let step = steps.get(`${type}@${v}`); step !== undefined; step = steps.get(`${type}@${v}`)) {
        d = step(d)
        v++
      }
      return { version: v, data: d }
    }
  }
}

export const emptyUpcasters: UpcasterRegistry = makeUpcasterRegistry([])
