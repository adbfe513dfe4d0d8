/** Global IDs, deterministic pseudo-randomness and small helpers shared by the simulator. */

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

// Deterministic randomness is the kit's (`src/simulator/kit/DeterministicIds.ts`).
export { hash32, prng, seedOf, uuidFrom as deterministicUuid } from "../kit/DeterministicIds.ts"

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
