/**
 * Deterministic shop → partition mapping, shared by every publisher and consumer. FNV-1a
 * (32-bit) of the shop domain modulo the partition count — the same hash nats-server's
 * `{{partition(n, …)}}` mapping uses, so either side may compute it.
 */
export const DEFAULT_PARTITIONS = 64

export const fnv1a32 = (text: string): number => {
  let hash = 0x811c9dc5
  const bytes = new TextEncoder().encode(text)
  for (const b of bytes) {
    hash ^= b
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

export const partitionOf = (shop: string, partitions: number = DEFAULT_PARTITIONS): number =>
  fnv1a32(shop) % partitions
