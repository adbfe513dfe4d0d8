/**
 * Fetches Shopify's real Admin GraphQL schema (introspection JSON, gzipped) for the
 * Shopify simulator (`src/simulator/shopify`).
 *
 * Shopify ships the schema inside the npm package `@shopify/dev-mcp` under
 * `dist/data/admin_<version>.json.gz`. Installing that package would drag in a heavy
 * dependency tree, so this script only `npm pack`s one pinned, integrity-checked tarball
 * into a temp dir, pulls the single schema file out of it with a tiny tar reader, checks
 * that file's SHA-256 and writes it to `.cache/shopify/admin_<version>.json.gz`.
 *
 * Idempotent: when the target already exists with the expected SHA-256 it does nothing,
 * so it is cheap to run from `postinstall`.
 *
 *   node scripts/fetch-shopify-schema.ts          # fetch if missing
 *   node scripts/fetch-shopify-schema.ts --force  # fetch again
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"

/** The pinned package that carries the schema. Bump all four values together. */
export const SCHEMA_PACKAGE = "@shopify/dev-mcp"
export const SCHEMA_PACKAGE_VERSION = "1.16.0"
/** `dist.integrity` of the pinned tarball, as published on the npm registry. */
export const SCHEMA_PACKAGE_INTEGRITY =
  "sha512-tqgRnK7sQhjew+htxtleTH23nXB5fZcsrhWgEkomsorGXvLOB2mh2upwZm8uzuTDNTZnqtLMe64yIwh6s2awtw=="
/** SHA-256 (hex) of the extracted `admin_2026-07.json.gz`. */
export const SCHEMA_FILE_SHA256 = "5bcde995c89c59acdb2ee494378d96f45ce7378a16ec829a74b71d696a08ef19"

export const SCHEMA_API_VERSION = "2026-07"
const TAR_ENTRY = `package/dist/data/admin_${SCHEMA_API_VERSION}.json.gz`

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..")
/** Where the simulator's `loadAdminSchema()` looks for the schema by default. */
export const SCHEMA_CACHE_PATH = join(repoRoot, ".cache", "shopify", `admin_${SCHEMA_API_VERSION}.json.gz`)

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex")

/**
 * Reads one regular file out of an uncompressed tar archive (ustar, with pax `path`
 * records and GNU long names). Returns undefined when the entry is absent.
 */
export const readTarEntry = (tar: Buffer, wanted: string): Buffer | undefined => {
  let offset = 0
  let longName: string | undefined
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((b) => b === 0)) return undefined
    const field = (start: number, length: number) => {
      const raw = header.subarray(start, start + length)
      const end = raw.indexOf(0)
      return raw.subarray(0, end === -1 ? length : end).toString("utf8")
    }
    const size = parseInt(field(124, 12).trim() || "0", 8)
    const type = field(156, 1)
    const prefix = field(345, 155)
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))
    longName = undefined
    const dataStart = offset + 512
    const data = tar.subarray(dataStart, dataStart + size)
    offset = dataStart + Math.ceil(size / 512) * 512
    if (type === "x") {
      const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"))
      if (match?.[1] !== undefined) longName = match[1]
    } else if (type === "L") {
      longName = data.toString("utf8").replace(/\0+$/, "")
    } else if ((type === "0" || type === "") && name === wanted) {
      return Buffer.from(data)
    }
  }
  return undefined
}

const isCurrent = (path: string): boolean => existsSync(path) && sha256(readFileSync(path)) === SCHEMA_FILE_SHA256

/**
 * Makes sure the pinned schema file is at `target`; downloads it with `npm pack` when it
 * is missing or does not match the pinned SHA-256. Returns the path.
 */
export const ensureShopifySchema = (options: { readonly target?: string; readonly force?: boolean } = {}): string => {
  const target = options.target ?? SCHEMA_CACHE_PATH
  if (!options.force && isCurrent(target)) return target
  const workDir = mkdtempSync(join(tmpdir(), "shopify-schema-"))
  try {
    execFileSync(
      "npm",
      ["pack", `${SCHEMA_PACKAGE}@${SCHEMA_PACKAGE_VERSION}`, "--pack-destination", workDir, "--silent"],
      { stdio: ["ignore", "ignore", "inherit"] }
    )
    const tarball = readdirSync(workDir).find((f) => f.endsWith(".tgz"))
    if (tarball === undefined) throw new Error(`npm pack produced no tarball in ${workDir}`)
    const packed = readFileSync(join(workDir, tarball))
    const integrity = `sha512-${createHash("sha512").update(packed).digest("base64")}`
    if (integrity !== SCHEMA_PACKAGE_INTEGRITY) {
      throw new Error(
        `${SCHEMA_PACKAGE}@${SCHEMA_PACKAGE_VERSION} integrity mismatch: got ${integrity}, pinned ${SCHEMA_PACKAGE_INTEGRITY}`
      )
    }
    const entry = readTarEntry(gunzipSync(packed), TAR_ENTRY)
    if (entry === undefined) throw new Error(`${TAR_ENTRY} not found in ${tarball}`)
    const entrySha = sha256(entry)
    if (entrySha !== SCHEMA_FILE_SHA256) {
      throw new Error(`${TAR_ENTRY} sha256 mismatch: got ${entrySha}, pinned ${SCHEMA_FILE_SHA256}`)
    }
    mkdirSync(dirname(target), { recursive: true })
    const partial = `${target}.${process.pid}.partial`
    writeFileSync(partial, entry)
    renameSync(partial, target)
    return target
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const force = process.argv.includes("--force")
    const already = !force && isCurrent(SCHEMA_CACHE_PATH)
    const path = ensureShopifySchema({ force })
    console.log(
      already
        ? `shopify schema: ${path} is present and verified`
        : `shopify schema: wrote ${path} from ${SCHEMA_PACKAGE}@${SCHEMA_PACKAGE_VERSION}`
    )
  } catch (error) {
    console.error(`shopify schema: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
}
