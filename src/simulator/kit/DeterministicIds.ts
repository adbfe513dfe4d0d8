/**
 * Ids and pseudo-randomness for simulators. Every id a simulator hands out (message ids,
 * request ids, webhook ids, tokens, numeric object ids) comes from a `DeterministicIds`:
 * with a seed, the same calls in the same order give the same ids on every run, so tests
 * and recorded fixtures can name them; without a seed each instance draws a random one, so
 * ids stay unique across runs as a real service's are (a restarted demo must not re-send a
 * webhook id the app already deduplicated).
 */
import { createHash, randomBytes } from "node:crypto"

/** 32-bit integer hash (murmur3 finalizer) of two numbers: cheap, stateless randomness. */
export const hash32 = (a: number, b: number): number => {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Deterministic PRNG (mulberry32) returning floats in [0, 1). */
export const prng = (seed: number): (() => number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Hashes a string to a 32-bit seed (numbers pass through as unsigned 32-bit). */
export const seedOf = (value: string | number): number =>
  typeof value === "number" ? value >>> 0 : createHash("sha256").update(value).digest().readUInt32BE(0)

const uuidFromDigest = (b: Buffer): string => {
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80
  const h = b.subarray(0, 16).toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** A UUID (v4 layout) derived from a string: the same source always gives the same UUID. */
export const uuidFrom = (source: string): string => uuidFromDigest(createHash("sha256").update(source).digest())

/** Letters and digits, as most providers' opaque ids use. */
export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/**
 * A source of ids. Sequences are per name (`next("message")` counts 1, 2, 3… independently
 * of `next("file")`); the derived values (`uuid`, `hex`, `string`, `random`) come from one
 * stream keyed by the seed and a draw counter. Use `fork(name)` to give a part of the
 * simulator (a shop, an account) its own stream, so its ids do not shift when another
 * part draws in a different order.
 */
export class DeterministicIds {
  /** The seed (random when none was given). */
  readonly seed: string
  readonly #sequences = new Map<string, number>()
  #draws = 0

  constructor(options: { readonly seed?: string | number } = {}) {
    this.seed = options.seed === undefined ? randomBytes(8).toString("hex") : String(options.seed)
  }

  /** The next number of sequence `name`: `start`, `start + 1`, … (default start 1). */
  next(name = "default", start = 1): number {
    const n = this.#sequences.get(name) ?? start
    this.#sequences.set(name, n + 1)
    return n
  }

  /** `<prefix><n>` from sequence `prefix`, e.g. `ids.prefixed("msg_")` → `msg_1`, `msg_2`. */
  prefixed(prefix: string, start = 1): string {
    return `${prefix}${this.next(prefix, start)}`
  }

  /** A UUID in v4 layout. */
  uuid(): string {
    return uuidFromDigest(this.#digest())
  }

  /** `bytes` pseudo-random bytes as lowercase hex (tokens, codes, signatures). */
  hex(bytes = 16): string {
    let out = ""
    while (out.length < bytes * 2) out += this.#digest().toString("hex")
    return out.slice(0, bytes * 2)
  }

  /** `length` characters drawn from `alphabet` (default base62), e.g. `msg_01${ids.string(22)}`. */
  string(length: number, alphabet: string = BASE62): string {
    let out = ""
    while (out.length < length) {
      const digest = this.#digest()
      for (let i = 0; i < digest.length && out.length < length; i++) out += alphabet[(digest[i] ?? 0) % alphabet.length]
    }
    return out
  }

  /** A float in [0, 1). */
  random(): number {
    return this.#digest().readUInt32BE(0) / 4294967296
  }

  /** An independent generator for a part of the simulator (seed `<seed>/<name>`). */
  fork(name: string): DeterministicIds {
    return new DeterministicIds({ seed: `${this.seed}/${name}` })
  }

  #digest(): Buffer {
    return createHash("sha256").update(`${this.seed}:${this.#draws++}`).digest()
  }
}

/** `new DeterministicIds({ seed })`. */
export const makeIds = (seed?: string | number): DeterministicIds => new DeterministicIds(seed === undefined ? {} : { seed })
