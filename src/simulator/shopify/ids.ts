/** Global IDs, deterministic pseudo-randomness and small helpers shared by the simulator. */
import { createHash } from "node:crypto"

/** `gid://shopify/<Type>/<id>` */
export const gid = (type: string, id: number | bigint | string): string => `gid://shopify/${type}/${id}`

/** Parses a Shopify global ID; undefined when the string is not one. */
export const parseGid = (value: string): { readonly type: string; readonly id: string } | undefined => {
  const m = /^gid:\/\/shopify\/(\w+)\/([^/?#]+)(?:\?.*)?$/.exec(value)
  return m?.[1] !== undefined && m[2] !== undefined ? { type: m[1], id: m[2] } : undefined
}

/** A numeric ID from a gid of the given type, or undefined. */
export const gidNumber = (value: unknown, type: string): number | undefined => {
  if (typeof value !== "string") return undefined
  const parsed = parseGid(value)
  if (parsed === undefined || parsed.type !== type || !/^\d+$/.test(parsed.id)) return undefined
  const n = Number(parsed.id)
  return Number.isSafeInteger(n) ? n : undefined
}

/** 32-bit integer hash (murmur3 finalizer) of two numbers; the catalog's randomness. */
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

/** Hashes a string to a 32-bit seed. */
export const seedOf = (value: string | number): number =>
  typeof value === "number" ? value >>> 0 : createHash("sha256").update(value).digest().readUInt32BE(0)

/** A UUID (v4 layout) derived from a string, so generated keys are reproducible. */
export const deterministicUuid = (source: string): string => {
  const b = createHash("sha256").update(source).digest()
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80
  const h = b.subarray(0, 16).toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** Opaque cursor in Shopify's style: base64 of `{"last_id":n,"last_value":v}`. */
export const encodeCursor = (lastId: number, lastValue: string | number = lastId): string =>
  Buffer.from(JSON.stringify({ last_id: lastId, last_value: lastValue })).toString("base64")

/** Decodes a cursor made by `encodeCursor`; undefined when malformed. */
export const decodeCursor = (cursor: string): number | undefined => {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64").toString("utf8")) as { last_id?: unknown }
    return typeof parsed.last_id === "number" && Number.isSafeInteger(parsed.last_id) ? parsed.last_id : undefined
  } catch {
    return undefined
  }
}
