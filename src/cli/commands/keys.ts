/**
 * `sumeru keys status` and `sumeru keys rotate [--generate-key] [--batch-size N]`: the
 * encryption keys protecting shop tokens and personal-data keys (invariant 7).
 *
 * Rotation with configured keys (no downtime):
 *   1. add the new key to `SUMERU_ENCRYPTION_KEYS` and deploy (every process can decrypt it);
 *   2. set `SUMERU_ENCRYPTION_KEY_ID` to it and deploy (every process seals with it);
 *   3. run `sumeru keys rotate` (re-encrypts the rows still under older keys);
 *   4. once `sumeru keys status` shows no row under the old key, remove it and deploy.
 * Embedded/demo mode (the key file `$SUMERU_DATA_DIR/keys.json`): stop the server, run
 * `sumeru keys rotate --generate-key` (adds a fresh key, makes it current, rotates), start it.
 */
import { Effect, Layer } from "effect"
import { Command, Flag } from "effect/cli"
import * as KeyRing from "../../../adapters/crypto/KeyRing.ts"
import { keyUsage, KeysMissingFromRing, rotateKeys } from "../../../adapters/postgres/PgKeyRotation.ts"
import { withCore } from "../database.ts"
import { fail } from "../errors.ts"
import { printLine, renderTable } from "../output.ts"

/** Key problems are the operator's to fix: show their message without the error's tag. */
const plainKeyErrors = <A, E, R>(effect: Effect.Effect<A, E | KeyRing.InvalidKeyRing | KeysMissingFromRing, R>) =>
  Effect.catchIf(
    effect,
    (e): e is KeyRing.InvalidKeyRing | KeysMissingFromRing => e instanceof KeyRing.InvalidKeyRing || e instanceof KeysMissingFromRing,
    (e) => fail(e.message)
  )

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

const status = Command.make("status", {}, () =>
  withCore(plainKeyErrors(Effect.gen(function*() {
    const ring = yield* KeyRing.KeyRing
    const usage = yield* keyUsage
    const kids = [...new Set([...ring.kids, ...usage.map((u) => u.kid)])].sort()
    yield* printLine(`key ring: ${ring.source}; current key ${ring.currentKid}; ${plural(ring.kids.length, "key")}: ${ring.kids.join(", ")}`)
    const rows = kids.map((kid) => {
      const u = usage.find((x) => x.kid === kid)
      return {
        kid,
        tokens: u?.tokens ?? 0,
        dataKeys: u?.dataKeys ?? 0,
        ring: kid === ring.currentKid ? "current" : ring.kids.includes(kid) ? "yes" : "MISSING"
      }
    })
    yield* printLine(renderTable([
      { header: "key id", value: (r) => r.kid },
      { header: "shop tokens", value: (r) => String(r.tokens), align: "right" },
      { header: "data keys", value: (r) => String(r.dataKeys), align: "right" },
      { header: "in ring", value: (r) => r.ring }
    ], rows))
    const stale = rows.filter((r) => r.ring !== "current" && r.tokens + r.dataKeys > 0)
    if (stale.length > 0) yield* printLine(`rows under older keys: run \`sumeru keys rotate\``)
  }).pipe(Effect.provide(KeyRing.layerFromConfig))))
).pipe(Command.withDescription("Rows per encryption key id (shop tokens and personal-data keys)"))

const rotate = Command.make(
  "rotate",
  {
    generateKey: Flag.Boolean("generate-key").pipe(
      Flag.withDescription("Embedded key file only: add a fresh key, make it current, then rotate"),
      Flag.withDefault(false)
    ),
    batchSize: Flag.Int("batch-size").pipe(Flag.withDescription("Rows re-encrypted per statement"), Flag.withDefault(500))
  },
  ({ generateKey, batchSize }) =>
    withCore(plainKeyErrors(Effect.gen(function*() {
      if (batchSize < 1) return yield* fail("--batch-size must be at least 1")
      if (generateKey) {
        const source = yield* KeyRing.keySourceFromConfig
        if (source._tag === "Environment") {
          return yield* fail(
            "--generate-key only applies to the embedded key file. With SUMERU_ENCRYPTION_KEYS: add the new key there and deploy, " +
              "set SUMERU_ENCRYPTION_KEY_ID to it and deploy, then run `sumeru keys rotate`."
          )
        }
        const kid = yield* KeyRing.addKeyToFile(source.path)
        yield* printLine(`generated key ${kid} in ${source.path}; it is now the current key`)
      }
      // a fresh ring: the key just added must be in it
      const report = yield* rotateKeys({ batchSize }).pipe(Effect.provide(Layer.fresh(KeyRing.layerFromConfig)))
      yield* printLine(
        `re-encrypted ${plural(report.tokens, "shop token")} and re-wrapped ${plural(report.dataKeys, "data key")} under ${report.currentKid}`
      )
      if (report.skipped > 0) yield* printLine(`${plural(report.skipped, "row")} changed meanwhile and kept the newer value`)
      if (report.failed.length > 0) {
        const which = report.failed.map((f) => `${f.table} ${f.shop}${f.subject === undefined ? "" : ` ${f.subject}`} (${f.kid})`)
        return yield* fail(`${plural(report.failed.length, "row")} could not be decrypted and stayed under old keys: ${which.join(", ")}`)
      }
      if (report.remaining > 0) {
        yield* printLine(
          `${plural(report.remaining, "row")} still under older keys (written meanwhile by a process not yet using ${report.currentKid}?): run \`sumeru keys rotate\` again`
        )
      }
    })))
).pipe(Command.withDescription("Re-encrypt shop tokens and data keys still under older keys with the current key"))

export const keysCommand = Command.make("keys").pipe(
  Command.withDescription("Encryption keys for secrets at rest: status and rotation"),
  Command.withSubcommands([status, rotate])
)
