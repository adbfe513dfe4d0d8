/**
 * The key ring (invariant 7): AES-256-GCM envelopes that name their key, bound to a purpose
 * by the AAD; configuration that refuses bad keys at startup without echoing them; the
 * embedded key file (private, created once, extended by `--generate-key`).
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, References } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import * as KeyRing from "../../adapters/crypto/KeyRing.ts"

const key1 = randomBytes(32)
const key2 = randomBytes(32)
const ring = (currentKid: string, keys: Record<string, Uint8Array>) => KeyRing.make({ currentKid, keys: new Map(Object.entries(keys)) })
const utf8 = (s: string) => Buffer.from(s, "utf8")
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8")

/** Flips one bit of the ciphertext part of a sealed string. */
const tamper = (sealed: string): string => {
  const [kid, iv, body] = sealed.split(".") as [string, string, string]
  const bytes = Buffer.from(body, "base64url")
  bytes[0] = bytes[0]! ^ 1
  return `${kid}.${iv}.${bytes.toString("base64url")}`
}

const dirs: Array<string> = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "sumeru-keys-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const fromEnv = (env: Record<string, string>) =>
  Effect.gen(function*() {
    return yield* KeyRing.KeyRing
  }).pipe(Effect.provide(KeyRing.layerFromConfig.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))))))

const captureLogs = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const result = yield* effect.pipe(
      Effect.provide(Logger.layer([Logger.make((o) => void lines.push(Logger.formatLogFmt.log(o)))])),
      Effect.provideService(References.MinimumLogLevel, "All")
    )
    return { result, lines }
  })

describe("KeyRing", () => {
  it.effect("seals under the current key and opens it back; every seal has a fresh IV", () =>
    Effect.gen(function*() {
      const r = yield* ring("k1", { k1: key1 })
      const a = yield* r.seal(utf8("shpat_secret"), "shop-token:a.myshopify.com")
      const b = yield* r.seal(utf8("shpat_secret"), "shop-token:a.myshopify.com")
      assert.match(a, /^k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
      assert.notStrictEqual(a, b)
      assert.notInclude(a, "shpat_secret")
      assert.strictEqual(KeyRing.kidOf(a), "k1")
      assert.strictEqual(text(yield* r.open(a, "shop-token:a.myshopify.com")), "shpat_secret")
      assert.strictEqual(text(yield* r.open(b, "shop-token:a.myshopify.com")), "shpat_secret")
    }))

  it.effect("a tampered ciphertext, another AAD (shop) or a malformed string fails with DecryptionFailed", () =>
    Effect.gen(function*() {
      const r = yield* ring("k1", { k1: key1 })
      const sealed = yield* r.seal(utf8("shpat_secret"), "shop-token:a.myshopify.com")
      for (const [value, aad] of [
        [tamper(sealed), "shop-token:a.myshopify.com"],
        [sealed, "shop-token:b.myshopify.com"],
        [sealed, "data-key:a.myshopify.com:shop"],
        ["k1.notbase64!.x", "shop-token:a.myshopify.com"],
        ["k1.AAAA.AAAA", "shop-token:a.myshopify.com"],
        [sealed.split(".").slice(0, 2).join("."), "shop-token:a.myshopify.com"]
      ] as const) {
        const error = yield* Effect.flip(r.open(value, aad))
        assert.strictEqual(error._tag, "DecryptionFailed")
      }
      // the same IV and ciphertext under another key id of equal length: the key differs, the tag fails
      const other = yield* ring("k2", { k1: key1, k2: key2 })
      const error = yield* Effect.flip(other.open(sealed.replace(/^k1/, "k2"), "shop-token:a.myshopify.com"))
      assert.strictEqual(error._tag, "DecryptionFailed")
    }))

  it.effect("a ring holding old and new keys opens both; a ring without the old key fails with UnknownKeyId", () =>
    Effect.gen(function*() {
      const old = yield* ring("k1", { k1: key1 })
      const sealedOld = yield* old.seal(utf8("v1"), "aad")
      const rotating = yield* ring("k2", { k1: key1, k2: key2 })
      const sealedNew = yield* rotating.seal(utf8("v2"), "aad")
      assert.strictEqual(KeyRing.kidOf(sealedNew), "k2")
      assert.strictEqual(text(yield* rotating.open(sealedOld, "aad")), "v1")
      assert.strictEqual(text(yield* rotating.open(sealedNew, "aad")), "v2")
      const rotated = yield* ring("k2", { k2: key2 })
      const error = yield* Effect.flip(rotated.open(sealedOld, "aad"))
      assert.strictEqual(error._tag, "UnknownKeyId")
      assert.strictEqual((error as KeyRing.UnknownKeyId).kid, "k1")
    }))

  it.effect("rejects wrong key lengths, an unknown current key id and key ids that cannot be stored", () =>
    Effect.gen(function*() {
      const short = yield* Effect.flip(ring("k1", { k1: randomBytes(16) }))
      assert.match(short.message, /k1 .* 16 bytes; AES-256 needs 32/)
      const unknown = yield* Effect.flip(ring("k3", { k1: key1, k2: key2 }))
      assert.match(unknown.message, /current key id "k3" is not among the keys .*\(k1, k2\)/)
      const dotted = yield* Effect.flip(ring("a.b", { "a.b": key1 }))
      assert.match(dotted.message, /Key id "a\.b" .* is invalid/)
    }))
})

describe("KeyRing configuration", () => {
  const keysJson = JSON.stringify({ k1: key1.toString("base64"), k2: key2.toString("base64url") })

  it.effect("SUMERU_ENCRYPTION_KEYS + SUMERU_ENCRYPTION_KEY_ID make the ring (base64 or base64url keys)", () =>
    Effect.gen(function*() {
      const r = yield* fromEnv({ SUMERU_ENCRYPTION_KEYS: keysJson, SUMERU_ENCRYPTION_KEY_ID: "k2" })
      assert.strictEqual(r.currentKid, "k2")
      assert.deepStrictEqual([...r.kids].sort(), ["k1", "k2"])
      assert.strictEqual(r.source, "SUMERU_ENCRYPTION_KEYS")
      const sealed = yield* r.seal(utf8("x"), "aad")
      // the configured bytes are the key: a ring made from them directly opens it
      const direct = yield* ring("k2", { k2: key2 })
      assert.strictEqual(text(yield* direct.open(sealed, "aad")), "x")
    }))

  it.effect("bad configuration stops startup with a message that names the problem and never the key", () =>
    Effect.gen(function*() {
      const hexKey = randomBytes(32).toString("hex")
      const cases: ReadonlyArray<readonly [Record<string, string>, RegExp]> = [
        [{ SUMERU_ENCRYPTION_KEYS: JSON.stringify({ k1: hexKey }), SUMERU_ENCRYPTION_KEY_ID: "k1" }, /Key k1 in SUMERU_ENCRYPTION_KEYS is 48 bytes; AES-256 needs 32/],
        [{ SUMERU_ENCRYPTION_KEYS: keysJson, SUMERU_ENCRYPTION_KEY_ID: "k9" }, /current key id "k9" is not among the keys in SUMERU_ENCRYPTION_KEYS/],
        [{ SUMERU_ENCRYPTION_KEYS: keysJson }, /SUMERU_ENCRYPTION_KEY_ID is not/],
        [{ SUMERU_ENCRYPTION_KEY_ID: "k1" }, /SUMERU_ENCRYPTION_KEYS is not/],
        [{ SUMERU_ENCRYPTION_KEYS: `{"k1": "${hexKey}"`, SUMERU_ENCRYPTION_KEY_ID: "k1" }, /not valid JSON/],
        [{ SUMERU_ENCRYPTION_KEYS: `["${hexKey}"]`, SUMERU_ENCRYPTION_KEY_ID: "k1" }, /must be a JSON object/],
        [{ SUMERU_ENCRYPTION_KEYS: JSON.stringify({ k1: `${hexKey}!` }), SUMERU_ENCRYPTION_KEY_ID: "k1" }, /Key k1 in SUMERU_ENCRYPTION_KEYS is not a base64 string/],
        // a shared database needs shared keys: no silent per-machine key file
        [{ DATABASE_URL: "postgres://sumeru@db.internal/sumeru" }, /DATABASE_URL is set, so SUMERU_ENCRYPTION_KEYS and SUMERU_ENCRYPTION_KEY_ID are required/]
      ]
      for (const [env, message] of cases) {
        const error = yield* Effect.flip(fromEnv(env))
        assert.strictEqual(error._tag, "InvalidKeyRing", JSON.stringify(env))
        assert.match(error.message, message)
        assert.notInclude(error.message, hexKey.slice(0, 12))
        assert.notInclude(error.message, key1.toString("base64").slice(0, 12))
      }
    }))

  it.effect("without keys configured: the key file is created once (mode 0600), reused, and a warning says to configure keys", () =>
    Effect.gen(function*() {
      const dataDir = join(tempDir(), "data")
      const path = join(dataDir, "keys.json")
      const first = yield* captureLogs(fromEnv({ SUMERU_DATA_DIR: dataDir }))
      assert.strictEqual(statSync(path).mode & 0o777, 0o600)
      assert.strictEqual(first.result.source, path)
      assert.isTrue(first.lines.some((l) => l.includes("level=WARN") && l.includes("SUMERU_ENCRYPTION_KEYS") && l.includes("Created")))
      const file = JSON.parse(readFileSync(path, "utf8")) as { currentKid: string; keys: Record<string, string> }
      assert.strictEqual(file.currentKid, first.result.currentKid)
      // the key never reaches a log line
      assert.isFalse(first.lines.some((l) => l.includes(file.keys[file.currentKid]!)))
      const sealed = yield* first.result.seal(utf8("token"), "aad")

      const second = yield* captureLogs(fromEnv({ SUMERU_DATA_DIR: dataDir }))
      assert.strictEqual(second.result.currentKid, first.result.currentKid)
      assert.strictEqual(text(yield* second.result.open(sealed, "aad")), "token")
      assert.isTrue(second.lines.some((l) => l.includes("level=WARN") && l.includes("read from")))
    }))

  it.effect("addKeyToFile adds a fresh current key and keeps the old one; a world-readable file is warned about", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      const path = join(dataDir, "keys.json")
      const before = yield* fromEnv({ SUMERU_DATA_DIR: dataDir })
      const sealed = yield* before.seal(utf8("old"), "aad")
      const kid = yield* KeyRing.addKeyToFile(path)
      assert.notStrictEqual(kid, before.currentKid)
      assert.strictEqual(statSync(path).mode & 0o777, 0o600)
      const after = yield* fromEnv({ SUMERU_DATA_DIR: dataDir })
      assert.strictEqual(after.currentKid, kid)
      assert.deepStrictEqual([...after.kids].sort(), [before.currentKid, kid].sort())
      assert.strictEqual(text(yield* after.open(sealed, "aad")), "old")
      assert.strictEqual(KeyRing.kidOf(yield* after.seal(utf8("new"), "aad")), kid)

      const loose = join(tempDir(), "keys.json")
      writeFileSync(loose, readFileSync(path), { mode: 0o644 })
      const warned = yield* captureLogs(KeyRing.loadKeyFile(loose))
      assert.isTrue(warned.lines.some((l) => l.includes("readable by other users")))
    }))

  it.effect("a broken key file is a clear startup error", () =>
    Effect.gen(function*() {
      const dataDir = tempDir()
      writeFileSync(join(dataDir, "keys.json"), "{not json", { mode: 0o600 })
      const broken = yield* Effect.flip(fromEnv({ SUMERU_DATA_DIR: dataDir }))
      assert.match(broken.message, /key file .*keys\.json is not valid JSON/)
      writeFileSync(join(dataDir, "keys.json"), JSON.stringify({ currentKid: "k1", keys: { k1: randomBytes(31).toString("base64") } }))
      const short = yield* Effect.flip(fromEnv({ SUMERU_DATA_DIR: dataDir }))
      assert.match(short.message, /Key k1 in .*keys\.json is 31 bytes/)
    }))
})
