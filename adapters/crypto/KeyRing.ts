/**
 * Envelope encryption with AES-256-GCM under named keys (invariant 7).
 *
 * A key ring holds every key that may still be needed to decrypt (old and new during a
 * rotation) and names the one new ciphertexts are sealed with (`currentKid`). A sealed value
 * is `"<kid>.<iv>.<ciphertext||tag>"` (base64url; 12-byte random IV, 16-byte tag): it names
 * its key, so readers decrypt rows of any age while `sumeru keys rotate` re-encrypts them
 * one by one. The additional authenticated data (AAD) binds a ciphertext to its purpose and
 * owner (`shop-token:<shop>`, `data-key:<shop>:<subject>`): a ciphertext copied into another
 * row or shop fails authentication instead of decrypting there.
 *
 * Keys come from configuration (`SUMERU_ENCRYPTION_KEYS` + `SUMERU_ENCRYPTION_KEY_ID`), or, in
 * embedded/demo mode when neither is set, from `$SUMERU_DATA_DIR/keys.json` (created on first
 * use, mode 0600). Key bytes live only in closures here: never in a service field, an error,
 * or a log line.
 */
import { Config, Context, Effect, Layer, Option, Redacted, References, Schema } from "effect"
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from "node:crypto"
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { DecryptionFailed } from "../../src/secrets/Secrets.ts"

// ------------------------------------------------------------------------------- errors

/** A ciphertext names a key id the ring does not hold (removed too early, or never configured here). */
export class UnknownKeyId extends Schema.TaggedError<UnknownKeyId>()("UnknownKeyId", {
  kid: Schema.String,
  message: Schema.String
}) {}

/** The configured keys cannot be used (startup error: wrong length, unknown current key id, bad JSON). */
export class InvalidKeyRing extends Schema.TaggedError<InvalidKeyRing>()("InvalidKeyRing", {
  message: Schema.String
}) {}

// --------------------------------------------------------------------------- primitives

export const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const ALGORITHM = "aes-256-gcm"

/** Key ids appear in sealed strings (separated by `.`) and in SQL rows: keep them plain. */
const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/

export const isValidKid = (kid: string): boolean => KID_PATTERN.test(kid)

/**
 * A key as the ciphers use it. Raw bytes are turned into a `KeyObject` once, where a key
 * enters memory: node validates and imports raw key bytes on every `createCipheriv` /
 * `createHmac`, which made a seal cost 13 µs instead of 3.4 µs (and was 9 % of a server's CPU
 * under webhook load, where every event seals and every projection opens).
 */
export type CipherKey = KeyObject

/** Imports key bytes (copied: the caller may wipe its buffer afterwards). */
export const cipherKey = (bytes: Uint8Array): CipherKey => createSecretKey(bytes)

/** Seals `plaintext` under `key` (named `kid` in the output), bound to `aad`. */
export const sealWithKey = (kid: string, key: CipherKey, plaintext: Uint8Array, aad: string): string => {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  return `${kid}.${iv.toString("base64url")}.${body.toString("base64url")}`
}

export interface ParsedSealed {
  readonly kid: string
  readonly iv: Buffer
  readonly ciphertext: Buffer
  readonly tag: Buffer
}

/** Splits a sealed string; `undefined` when it is not one (wrong shape, IV or tag length). */
export const parseSealed = (sealed: string): ParsedSealed | undefined => {
  const parts = sealed.split(".")
  if (parts.length !== 3) return undefined
  const [kid, iv64, body64] = parts as [string, string, string]
  if (!isValidKid(kid) || !BASE64URL.test(iv64) || !BASE64URL.test(body64)) return undefined
  const iv = Buffer.from(iv64, "base64url")
  const body = Buffer.from(body64, "base64url")
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) return undefined
  return { kid, iv, ciphertext: body.subarray(0, body.length - TAG_BYTES), tag: body.subarray(body.length - TAG_BYTES) }
}

/** The key id a sealed string names, without decrypting it. */
export const kidOf = (sealed: string): string | undefined => parseSealed(sealed)?.kid

/** Decrypts and authenticates; `undefined` when the tag does not match (tampered, other key, other AAD). */
export const openWithKey = (key: CipherKey, parsed: ParsedSealed, aad: string): Uint8Array | undefined => {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, parsed.iv, { authTagLength: TAG_BYTES })
    decipher.setAuthTag(parsed.tag)
    decipher.setAAD(Buffer.from(aad, "utf8"))
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()])
  } catch {
    return undefined
  }
}

export const generateKey = (): Uint8Array => randomBytes(KEY_BYTES)

/** A fresh key id: the date (for operators reading `keys status`) and a random suffix. */
export const generateKid = (now: Date = new Date()): string =>
  `k${now.toISOString().slice(0, 10).replaceAll("-", "")}-${randomBytes(3).toString("hex")}`

// ------------------------------------------------------------------------------ service

/** The raw material of a ring: every usable key by id, and the id new ciphertexts use. */
export interface KeyRingKeys {
  readonly currentKid: string
  readonly keys: ReadonlyMap<string, Uint8Array>
}

export class KeyRing extends Context.Service<KeyRing, {
  /** The key new ciphertexts are sealed with. */
  readonly currentKid: string
  /** Every key id the ring can decrypt. */
  readonly kids: ReadonlyArray<string>
  /** Where the keys came from, for operators (`SUMERU_ENCRYPTION_KEYS` or the key file's path). */
  readonly source: string
  /** Seals under the current key, bound to `aad`. */
  readonly seal: (plaintext: Uint8Array, aad: string) => Effect.Effect<string>
  /** Opens a value sealed under any key of the ring with the same `aad`. */
  readonly open: (sealed: string, aad: string) => Effect.Effect<Uint8Array, DecryptionFailed | UnknownKeyId>
}>()("sumeru/crypto/KeyRing") {}

/** Validates the keys (32 bytes each, plain key ids, current key present) and builds the service. */
export const make = (ring: KeyRingKeys, source = "in-memory key ring"): Effect.Effect<KeyRing["Service"], InvalidKeyRing> =>
  Effect.gen(function*() {
    if (ring.keys.size === 0) return yield* new InvalidKeyRing({ message: `No encryption keys in ${source}.` })
    const keys = new Map<string, CipherKey>()
    for (const [kid, key] of ring.keys) {
      if (!isValidKid(kid)) {
        return yield* new InvalidKeyRing({ message: `Key id ${JSON.stringify(kid.slice(0, 64))} in ${source} is invalid: use 1-64 letters, digits, '-' or '_'.` })
      }
      if (key.length !== KEY_BYTES) {
        return yield* new InvalidKeyRing({
          message: `Key ${kid} in ${source} is ${key.length} bytes; AES-256 needs ${KEY_BYTES} (base64 of 32 random bytes: \`openssl rand -base64 32\`).`
        })
      }
      keys.set(kid, cipherKey(key))
    }
    if (!keys.has(ring.currentKid)) {
      return yield* new InvalidKeyRing({
        message: `The current key id ${JSON.stringify(ring.currentKid)} is not among the keys in ${source} (${[...keys.keys()].join(", ")}).`
      })
    }
    const currentKid = ring.currentKid
    const currentKey = keys.get(currentKid)!
    return KeyRing.of({
      currentKid,
      kids: [...keys.keys()],
      source,
      seal: (plaintext, aad) => Effect.sync(() => sealWithKey(currentKid, currentKey, plaintext, aad)),
      open: (sealed, aad) =>
        Effect.suspend((): Effect.Effect<Uint8Array, DecryptionFailed | UnknownKeyId> => {
          const parsed = parseSealed(sealed)
          if (parsed === undefined) return Effect.fail(new DecryptionFailed({ message: "Not a sealed value (malformed ciphertext)." }))
          const key = keys.get(parsed.kid)
          if (key === undefined) {
            return Effect.fail(new UnknownKeyId({
              kid: parsed.kid,
              message: `Encryption key ${parsed.kid} is not in the key ring (${source}); add it back to decrypt rows still sealed under it.`
            }))
          }
          const plaintext = openWithKey(key, parsed, aad)
          return plaintext === undefined
            ? Effect.fail(new DecryptionFailed({ message: `Ciphertext under key ${parsed.kid} failed authentication (tampered, or sealed for another owner).` }))
            : Effect.succeed(plaintext)
        })
    })
  })

/** A fixed ring (tests, scripts). */
export const layer = (ring: KeyRingKeys, source?: string): Layer.Layer<KeyRing, InvalidKeyRing> =>
  Layer.effect(KeyRing, make(ring, source))

// ------------------------------------------------------------------- configuration

/** Decodes `{"<kid>": "<base64 of 32 bytes>", …}`; messages never echo the input (it is secret). */
export const parseKeysJson = (json: string, source: string): Effect.Effect<ReadonlyMap<string, Uint8Array>, InvalidKeyRing> =>
  Effect.gen(function*() {
    let parsed: unknown
    try {
      parsed = JSON.parse(json)
    } catch {
      // JSON.parse's message quotes the input: never show it.
      return yield* new InvalidKeyRing({ message: `${source} is not valid JSON (expected {"<key id>": "<base64 of 32 bytes>", …}).` })
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return yield* new InvalidKeyRing({ message: `${source} must be a JSON object {"<key id>": "<base64 of 32 bytes>", …}.` })
    }
    const keys = new Map<string, Uint8Array>()
    for (const [kid, value] of Object.entries(parsed)) {
      if (typeof value !== "string" || !BASE64.test(value.replace(/-/g, "+").replace(/_/g, "/"))) {
        return yield* new InvalidKeyRing({ message: `Key ${kid} in ${source} is not a base64 string.` })
      }
      keys.set(kid, Buffer.from(value, "base64"))
    }
    return keys
  })

/** Where the ring's keys come from, as configured. */
export type KeySource =
  | { readonly _tag: "Environment"; readonly ring: KeyRingKeys }
  | { readonly _tag: "File"; readonly path: string }

const ENV_KEYS = "SUMERU_ENCRYPTION_KEYS"
const ENV_KID = "SUMERU_ENCRYPTION_KEY_ID"

const nonEmpty = <A extends string | Redacted.Redacted<string>>(value: Option.Option<A>): Option.Option<A> =>
  Option.filter(value, (v) => (typeof v === "string" ? v : Redacted.value(v)).trim() !== "")

/** The key file of the embedded/demo mode: `$SUMERU_DATA_DIR/keys.json` (default `./data`). */
export const keyFilePath = Effect.map(
  Config.String("SUMERU_DATA_DIR").pipe(Config.withDefault("./data")),
  (dir) => join(dir === "" ? "./data" : dir, "keys.json")
)

/**
 * Reads the key configuration: both `SUMERU_ENCRYPTION_KEYS` and `SUMERU_ENCRYPTION_KEY_ID`,
 * or neither (the key file). One without the other is a startup error: half a rotation
 * deployed is exactly when a silent fallback would seal under the wrong key.
 */
export const keySourceFromConfig: Effect.Effect<KeySource, InvalidKeyRing | Config.ConfigError> = Effect.gen(function*() {
  const keys = nonEmpty(yield* Config.option(Config.Redacted(ENV_KEYS)))
  const kid = nonEmpty(yield* Config.option(Config.String(ENV_KID)))
  if (Option.isNone(keys) && Option.isNone(kid)) {
    // A key file is one machine's: with a shared PostgreSQL every process would seal under a
    // key of its own, and the others could not open it.
    const databaseUrl = nonEmpty(yield* Config.option(Config.Redacted("DATABASE_URL")))
    if (Option.isSome(databaseUrl)) {
      return yield* new InvalidKeyRing({
        message: `DATABASE_URL is set, so ${ENV_KEYS} and ${ENV_KID} are required: every process sharing the database must use the same keys ` +
          `(a key file is per machine). Generate a key with \`openssl rand -base64 32\`; see .env.example.`
      })
    }
    return { _tag: "File", path: yield* keyFilePath } as const
  }
  if (Option.isNone(keys)) return yield* new InvalidKeyRing({ message: `${ENV_KID} is set but ${ENV_KEYS} is not: configure both, or neither (embedded key file).` })
  if (Option.isNone(kid)) return yield* new InvalidKeyRing({ message: `${ENV_KEYS} is set but ${ENV_KID} is not: name the current key id.` })
  const parsed = yield* parseKeysJson(Redacted.value(keys.value), ENV_KEYS)
  return { _tag: "Environment", ring: { currentKid: kid.value.trim(), keys: parsed } } as const
})

// ----------------------------------------------------------------------- key file

const KeyFile = Schema.Struct({
  currentKid: Schema.String,
  keys: Schema.Record(Schema.String, Schema.String)
})
type KeyFile = typeof KeyFile.Type

const fileError = (path: string, what: string, e: unknown) =>
  new InvalidKeyRing({ message: `Cannot ${what} the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })

/** Writes `content` to a private temp file next to `path`, flushed to disk; returns its path. */
const writePrivateTemp = (path: string, content: string): string => {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`
  const fd = openSync(tmp, "wx", 0o600)
  try {
    fchmodSync(fd, 0o600) // whatever the umask
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return tmp
}

const syncDirectory = (dir: string): void => {
  try {
    const fd = openSync(dir, "r")
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Not every platform can fsync a directory; the file itself is already flushed.
  }
}

const serialize = (file: KeyFile): string => `${JSON.stringify(file, null, 2)}\n`

const freshKeyFile = (): KeyFile => {
  const kid = generateKid()
  return { currentKid: kid, keys: { [kid]: Buffer.from(generateKey()).toString("base64") } }
}

/**
 * Creates the key file if it does not exist. Atomic and race-safe: the content is written to
 * a temp file and hard-linked into place, so two processes starting at once end up using the
 * same (first) key, and nobody ever reads a half-written file.
 */
const ensureKeyFile = (path: string): Effect.Effect<boolean, InvalidKeyRing> =>
  Effect.try({
    try: () => {
      mkdirSync(dirname(path), { recursive: true })
      const tmp = writePrivateTemp(path, serialize(freshKeyFile()))
      try {
        linkSync(tmp, path)
        syncDirectory(dirname(path))
        return true
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
        throw e
      } finally {
        rmSync(tmp, { force: true })
      }
    },
    catch: (e) => fileError(path, "create", e)
  })

const readKeyFile = (path: string): Effect.Effect<KeyFile, InvalidKeyRing> =>
  Effect.gen(function*() {
    const text = yield* Effect.try({ try: () => readFileSync(path, "utf8"), catch: (e) => fileError(path, "read", e) })
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return yield* new InvalidKeyRing({ message: `The key file ${path} is not valid JSON.` })
    }
    return yield* Schema.decodeUnknownEffect(KeyFile)(json).pipe(
      Effect.mapError(() => new InvalidKeyRing({ message: `The key file ${path} must look like {"currentKid": "…", "keys": {"<key id>": "<base64>"}}.` }))
    )
  })

const ringFromFile = (path: string, file: KeyFile): Effect.Effect<KeyRingKeys, InvalidKeyRing> =>
  Effect.map(parseKeysJson(JSON.stringify(file.keys), `the key file ${path}`), (keys) => ({ currentKid: file.currentKid, keys }))

/**
 * Loads the key file, creating it with a fresh key on first use. Warns that production should
 * configure keys (a key next to the data it protects only keeps the data private from the
 * database's other readers) and when the file is readable by others.
 */
export const loadKeyFile = (path: string): Effect.Effect<KeyRingKeys, InvalidKeyRing> =>
  Effect.gen(function*() {
    const created = yield* ensureKeyFile(path)
    const ring = yield* ringFromFile(path, yield* readKeyFile(path))
    yield* Effect.logWarning(
      `${created ? "Created the encryption key file" : "Encryption keys are read from"} ${path} (embedded/demo mode). ` +
        `In production set ${ENV_KEYS} and ${ENV_KID} instead (see .env.example).`
    )
    const mode = statSync(path).mode & 0o777
    if ((mode & 0o077) !== 0) yield* Effect.logWarning(`The key file ${path} is readable by other users (mode ${mode.toString(8)}): chmod 600 it.`)
    return ring
  })

/**
 * Adds a freshly generated key to the key file and makes it current (the old keys stay, so
 * existing rows keep decrypting until `sumeru keys rotate` re-encrypts them). The file is
 * replaced atomically (write a temp file, rename). Returns the new key id.
 */
export const addKeyToFile = (path: string): Effect.Effect<string, InvalidKeyRing> =>
  Effect.gen(function*() {
    yield* ensureKeyFile(path)
    const file = yield* readKeyFile(path)
    yield* ringFromFile(path, file) // refuse to extend a file that is already broken
    let kid = generateKid()
    while (kid in file.keys) kid = generateKid()
    const next: KeyFile = { currentKid: kid, keys: { ...file.keys, [kid]: Buffer.from(generateKey()).toString("base64") } }
    yield* Effect.try({
      try: () => {
        const tmp = writePrivateTemp(path, serialize(next))
        try {
          renameSync(tmp, path)
        } finally {
          rmSync(tmp, { force: true })
        }
        syncDirectory(dirname(path))
      },
      catch: (e) => fileError(path, "update", e)
    })
    return kid
  })

/**
 * The ring for an operator command (`sumeru …`): as configured, but without repeating the
 * embedded-mode warning on every command, and *locked* when no usable keys are configured —
 * commands that never open sealed data (status, API keys, origins, migrations) still work,
 * and the ones that do fail with the configuration problem as their message.
 */
export const layerForCommand: Layer.Layer<KeyRing> = Layer.effect(
  KeyRing,
  Effect.gen(function*() {
    const loaded = yield* Effect.result(Effect.gen(function*() {
      const source = yield* keySourceFromConfig
      return source._tag === "Environment"
        ? yield* make(source.ring, ENV_KEYS)
        : yield* make(yield* loadKeyFile(source.path).pipe(Effect.provideService(References.MinimumLogLevel, "Error")), source.path)
    }))
    if (loaded._tag === "Success") return loaded.success
    const message = loaded.failure._tag === "InvalidKeyRing" ? loaded.failure.message : `The key configuration is invalid: ${loaded.failure.message}`
    return KeyRing.of({
      currentKid: "none",
      kids: [],
      source: "no usable keys",
      seal: () => Effect.die(new InvalidKeyRing({ message })),
      open: () => Effect.fail(new UnknownKeyId({ kid: "none", message }))
    })
  })
)

/** The key file at `path` as a ring (created on first use). */
export const layerFromKeyFile = (path: string): Layer.Layer<KeyRing, InvalidKeyRing> =>
  Layer.effect(KeyRing, Effect.flatMap(loadKeyFile(path), (ring) => make(ring, path)))

/**
 * The ring from `SUMERU_ENCRYPTION_KEYS` (JSON `{"<kid>": "<base64 of 32 bytes>"}`) and
 * `SUMERU_ENCRYPTION_KEY_ID`, or from `$SUMERU_DATA_DIR/keys.json` when neither is set.
 * Invalid keys stop the process at startup with a message saying what is wrong.
 */
export const layerFromConfig: Layer.Layer<KeyRing, InvalidKeyRing | Config.ConfigError> = Layer.effect(
  KeyRing,
  Effect.gen(function*() {
    const source = yield* keySourceFromConfig
    return source._tag === "Environment"
      ? yield* make(source.ring, ENV_KEYS)
      : yield* make(yield* loadKeyFile(source.path), source.path)
  })
)
