/**
 * The key ring of test processes: one fixed key, so that every core a test builds on a
 * database (and every worker process it spawns, through `testKeyEnv`) opens what the others
 * sealed. Never used outside tests.
 */
import { Layer } from "effect"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"
import * as PgSecrets from "../../adapters/postgres/PgSecrets.ts"
import * as EventSealing from "../../src/eventstore/EventSealing.ts"

const TEST_KEY = Buffer.from("sumeru-test-key-0123456789abcdef", "utf8") // 32 bytes

export const testKeyRing = () => KeyRing.layer({ currentKid: "test", keys: new Map([["test", new Uint8Array(TEST_KEY)]]) }, "test")

/** The same ring for a child process's environment. */
export const testKeyEnv = {
  SUMERU_ENCRYPTION_KEYS: JSON.stringify({ test: TEST_KEY.toString("base64") }),
  SUMERU_ENCRYPTION_KEY_ID: "test"
} as const

/** The event store's sealing on the test ring, for suites that build the store alone (needs the database). */
export const testSealing = () =>
  EventSealing.layerFromVault.pipe(Layer.provideMerge(PgSecrets.layerPiiVault().pipe(Layer.provide(testKeyRing()))))
