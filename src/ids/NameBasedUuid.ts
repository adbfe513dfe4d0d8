/**
 * Name-based UUIDs (version 5 layout, SHA-1 of a namespaced name): the same name always gives
 * the same id. For ids that must survive a retry — the bulk job an execution starts, the
 * `webhook-id` of a delivery — so that doing the thing again names the same thing.
 */
import { createHash } from "node:crypto"

export const nameBasedUuid = (namespace: string, name: string): string => {
  const h = createHash("sha1").update(`${namespace}:${name}`).digest()
  h[6] = (h[6]! & 0x0f) | 0x50
  h[8] = (h[8]! & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString("hex")
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}
