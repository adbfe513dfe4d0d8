/**
 * `metafieldsSet` / `metafieldsDelete` semantics: per-type value validation with
 * Shopify's userError codes and field paths, the 25-per-call cap, compareDigest, and
 * atomicity (one error means nothing is written). Owners are products (the catalog) and
 * online store pages (`pages.ts`, where page SEO lives as `global.title_tag` /
 * `global.description_tag`).
 */
import { metafieldDigest, type Catalog, type MetafieldRecord } from "./catalog.ts"
import { parseGid } from "./ids.ts"

/** `MetafieldsSetInput` after GraphQL coercion. */
export interface MetafieldsSetInput {
  readonly ownerId: string
  readonly namespace?: string | null
  readonly key: string
  readonly type?: string | null
  readonly value: string
  readonly compareDigest?: string | null
}

/** `MetafieldsSetUserError`. */
export interface MetafieldsSetUserError {
  readonly field: ReadonlyArray<string> | null
  readonly message: string
  readonly code: string
  readonly elementIndex: number | null
}

/** `MetafieldIdentifierInput`. */
export interface MetafieldIdentifierInput {
  readonly ownerId: string
  readonly namespace: string
  readonly key: string
}

/** `UserError` (used by `metafieldsDelete`). */
export interface UserError {
  readonly field: ReadonlyArray<string> | null
  readonly message: string
}

/** An error forced on an owner by fault injection. */
export interface InjectedOwnerError {
  readonly code: string
  readonly message: string
}

export const METAFIELDS_SET_LIMIT = 25
const MAX_TEXT = 65_535
const MAX_JSON = 2_000_000
const INT_LIMIT = 9_007_199_254_740_991n

const SCALAR_TYPES = new Set([
  "single_line_text_field",
  "multi_line_text_field",
  "boolean",
  "number_integer",
  "number_decimal",
  "json",
  "date",
  "date_time",
  "url",
  "color",
  "money",
  "rating",
  "dimension",
  "weight",
  "volume",
  "link",
  "rich_text_field",
  "id",
  "product_reference",
  "variant_reference",
  "collection_reference",
  "file_reference",
  "page_reference",
  "customer_reference",
  "company_reference",
  "metaobject_reference",
  "mixed_reference",
  "order_reference",
  "product_taxonomy_value_reference"
])
const LIST_TYPES = new Set([
  "single_line_text_field",
  "number_integer",
  "number_decimal",
  "date",
  "date_time",
  "url",
  "color",
  "rating",
  "dimension",
  "weight",
  "volume",
  "link",
  "product_reference",
  "variant_reference",
  "collection_reference",
  "file_reference",
  "page_reference",
  "customer_reference",
  "company_reference",
  "metaobject_reference",
  "mixed_reference",
  "product_taxonomy_value_reference"
])

/** Whether `type` is a metafield type Shopify knows (incl. `list.*`). */
export const isKnownMetafieldType = (type: string): boolean =>
  type.startsWith("list.") ? LIST_TYPES.has(type.slice(5)) : SCALAR_TYPES.has(type)

const REFERENCE_GID_TYPES: Record<string, ReadonlyArray<string>> = {
  product_reference: ["Product"],
  variant_reference: ["ProductVariant"],
  collection_reference: ["Collection"],
  file_reference: ["MediaImage", "GenericFile", "Video", "Model3d"],
  page_reference: ["Page"],
  customer_reference: ["Customer"],
  company_reference: ["Company"],
  metaobject_reference: ["Metaobject"],
  mixed_reference: ["Metaobject"],
  order_reference: ["Order"],
  product_taxonomy_value_reference: ["TaxonomyValue"]
}

const DECIMAL = /^[-+]?\d+(\.\d+)?$/
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const validDate = (value: string): boolean => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (!m) return false
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])
}

const measurement = (units: ReadonlyArray<string>, label: string) => (json: unknown): string | undefined => {
  if (!isObject(json) || typeof json["value"] !== "number" || typeof json["unit"] !== "string") {
    return `Value must be a JSON object with a numeric 'value' and a 'unit' key.`
  }
  if (!units.includes(json["unit"])) return `Value has an invalid ${label} unit. Valid units are: ${units.join(", ")}.`
  return undefined
}

/** Validators of decoded (JSON) values, shared by scalar and list types. */
const JSON_VALIDATORS: Record<string, (json: unknown, shopCurrency: string) => string | undefined> = {
  money: (json, currency) => {
    if (!isObject(json) || typeof json["amount"] !== "string" || typeof json["currency_code"] !== "string") {
      return "Value must be a JSON object with 'amount' and 'currency_code' keys."
    }
    if (!DECIMAL.test(json["amount"])) return "Value has an invalid amount."
    if (json["currency_code"] !== currency) return `Value currency code must match the shop's currency (${currency}).`
    return undefined
  },
  rating: (json) => {
    if (!isObject(json) || typeof json["value"] !== "string" || typeof json["scale_min"] !== "string" || typeof json["scale_max"] !== "string") {
      return "Value must be a JSON object with 'value', 'scale_min' and 'scale_max' keys."
    }
    const [v, lo, hi] = [Number(json["value"]), Number(json["scale_min"]), Number(json["scale_max"])]
    if (![v, lo, hi].every(Number.isFinite)) return "Value must contain decimal numbers."
    if (v < lo || v > hi) return `Value must be between ${json["scale_min"]} and ${json["scale_max"]}.`
    return undefined
  },
  dimension: measurement(["in", "ft", "yd", "mm", "cm", "m"], "dimension"),
  weight: measurement(["oz", "lb", "g", "kg"], "weight"),
  volume: measurement(["ml", "cl", "l", "m3", "us_fl_oz", "us_pt", "us_qt", "us_gal", "imp_fl_oz", "imp_pt", "imp_qt", "imp_gal"], "volume"),
  link: (json) =>
    isObject(json) && typeof json["text"] === "string" && typeof json["url"] === "string" && validUrl(json["url"])
      ? undefined
      : "Value must be a JSON object with 'text' and a valid 'url'.",
  rich_text_field: (json) => (isObject(json) && json["type"] === "root" ? undefined : "Value must be a rich text JSON document with a 'root' node.")
}

const URL_SCHEMES = ["https:", "http:", "mailto:", "sms:", "tel:"]
const validUrl = (value: string): boolean => {
  try {
    const u = new URL(value)
    if (!URL_SCHEMES.includes(u.protocol)) return false
    return u.protocol === "http:" || u.protocol === "https:" ? u.hostname.length > 0 : true
  } catch {
    return false
  }
}

/** Validates one scalar value (as a string) of a non-list type; returns an error message. */
const validateScalar = (type: string, value: string, shopCurrency: string): string | undefined => {
  switch (type) {
    case "single_line_text_field":
      if (/[\r\n]/.test(value)) return "Value must be a single line text string."
      return value.length > MAX_TEXT ? `Value must be ${MAX_TEXT} characters or fewer.` : undefined
    case "multi_line_text_field":
      return value.length > MAX_TEXT ? `Value must be ${MAX_TEXT} characters or fewer.` : undefined
    case "boolean":
      return value === "true" || value === "false" ? undefined : "Value must be true or false."
    case "number_integer": {
      if (!/^[-+]?\d+$/.test(value)) return "Value must be an integer."
      const n = BigInt(value)
      return n > INT_LIMIT || n < -INT_LIMIT ? "Value must be between -9007199254740991 and 9007199254740991." : undefined
    }
    case "number_decimal": {
      if (!DECIMAL.test(value)) return "Value must be a decimal."
      const [whole = "", fraction = ""] = value.replace(/^[-+]/, "").split(".")
      if (fraction.length > 9) return "Value must have 9 decimal places or fewer."
      if (whole.replace(/^0+/, "").length > 13) return "Value must be between -9999999999999.999999999 and 9999999999999.999999999."
      return undefined
    }
    case "json": {
      if (value.length > MAX_JSON) return `Value must be ${MAX_JSON} characters or fewer.`
      try {
        JSON.parse(value)
        return undefined
      } catch (e) {
        return `Value is invalid JSON: ${e instanceof Error ? e.message : String(e)}.`
      }
    }
    case "date":
      return validDate(value) ? undefined : "Value must be in YYYY-MM-DD format."
    case "date_time": {
      const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value)
      if (!m || !validDate(m[1] ?? "") || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) {
        return "Value must be in YYYY-MM-DDTHH:MM:SS format."
      }
      return undefined
    }
    case "url":
      return validUrl(value) ? undefined : "Value must be a valid URL with one of the following schemes: https, http, mailto, sms, tel."
    case "color":
      return /^#[0-9a-fA-F]{6}$/.test(value) ? undefined : "Value must be a hex color code (#RRGGBB)."
    case "id":
      return value.length > 255 ? "Value must be 255 characters or fewer." : undefined
    default: {
      const gidTypes = REFERENCE_GID_TYPES[type]
      if (gidTypes !== undefined) {
        const parsed = parseGid(value)
        return parsed !== undefined && gidTypes.includes(parsed.type) ? undefined : `Value must be a valid ${gidTypes.join(" or ")} global ID.`
      }
      const jsonValidator = JSON_VALIDATORS[type]
      if (jsonValidator !== undefined) {
        try {
          return jsonValidator(JSON.parse(value), shopCurrency)
        } catch {
          return "Value must be valid JSON."
        }
      }
      return undefined
    }
  }
}

/**
 * Validates a metafield value for its type. Returns undefined when valid, otherwise the
 * message and, for `list.*` types, the index of the offending element.
 */
export const validateMetafieldValue = (
  type: string,
  value: string,
  shopCurrency = "USD"
): { readonly message: string; readonly elementIndex: number | null } | undefined => {
  if (!type.startsWith("list.")) {
    const message = validateScalar(type, value, shopCurrency)
    return message === undefined ? undefined : { message, elementIndex: null }
  }
  const inner = type.slice(5)
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return { message: "Value must be a JSON array.", elementIndex: null }
  }
  if (!Array.isArray(parsed)) return { message: "Value must be a JSON array.", elementIndex: null }
  for (let i = 0; i < parsed.length; i++) {
    const element: unknown = parsed[i]
    let message: string | undefined
    if (JSON_VALIDATORS[inner] !== undefined) {
      message = JSON_VALIDATORS[inner](element, shopCurrency)
    } else if (typeof element === "string" || (typeof element === "number" && (inner === "number_integer" || inner === "number_decimal"))) {
      message = validateScalar(inner, String(element), shopCurrency)
    } else {
      message = "Value must be an array of strings."
    }
    if (message !== undefined) return { message, elementIndex: i }
  }
  return undefined
}

/**
 * The metafields of one kind of owner, addressed by owner number. `Catalog` (products) and
 * `Pages` implement it, so both mutations treat every owner alike.
 */
export interface MetafieldOwnerStore {
  /** Owner number of an owner gid, or undefined when no such owner exists. */
  numOf(ownerGid: unknown): number | undefined
  metafield(n: number, namespace: string, key: string): MetafieldRecord | undefined
  upsertMetafield(n: number, input: { namespace: string; key: string; type: string; value: string }, now: number): MetafieldRecord
  deleteMetafield(n: number, namespace: string, key: string): boolean
}

/** Context for metafield mutations. */
export interface MetafieldsContext {
  readonly catalog: Catalog
  /** The shop's online store pages (absent: Page owners do not exist). */
  readonly pages?: MetafieldOwnerStore
  readonly now: number
  /** `app--<id>`: namespace used when `namespace` is omitted and the prefix for `$app`. */
  readonly appNamespace: string
  readonly shopCurrency: string
  /** Owner gid → error forced by fault injection. */
  readonly injectedErrors?: ReadonlyMap<string, InjectedOwnerError>
}

/** The store holding metafields of owners of gid type `type`, if the simulator has that kind of owner. */
const storeOf = (ctx: MetafieldsContext, type: string): MetafieldOwnerStore | undefined =>
  type === "Product" ? ctx.catalog : type === "Page" ? ctx.pages : undefined

const resolveNamespace = (namespace: string | null | undefined, appNamespace: string): string => {
  if (namespace === undefined || namespace === null) return appNamespace
  if (namespace === "$app") return appNamespace
  if (namespace.startsWith("$app:")) return `${appNamespace}--${namespace.slice(5)}`
  return namespace
}

/** A validated metafield write, ready to apply. */
export interface PlannedMetafieldWrite {
  readonly store: MetafieldOwnerStore
  readonly num: number
  readonly namespace: string
  readonly key: string
  readonly type: string
  readonly value: string
}

/**
 * Validates `metafieldsSet` inputs without writing anything: either every write is valid
 * (`planned`, in input order) or the userErrors. `pageUpdate(page: { metafields })` uses it
 * too, so both validate alike and can stay atomic with their other changes.
 */
export const planMetafieldsSet = (
  ctx: MetafieldsContext,
  inputs: ReadonlyArray<MetafieldsSetInput>
): { readonly planned: ReadonlyArray<PlannedMetafieldWrite>; readonly userErrors: ReadonlyArray<MetafieldsSetUserError> } => {
  if (inputs.length > METAFIELDS_SET_LIMIT) {
    return {
      planned: [],
      userErrors: [
        {
          field: ["metafields"],
          message: `Exceeded the maximum metafields input limit of ${METAFIELDS_SET_LIMIT}.`,
          code: "LESS_THAN_OR_EQUAL_TO",
          elementIndex: null
        }
      ]
    }
  }
  const errors: Array<MetafieldsSetUserError> = []
  const planned: Array<PlannedMetafieldWrite> = []
  inputs.forEach((input, index) => {
    const at = (...field: Array<string>): Array<string> => ["metafields", String(index), ...field]
    const fail = (code: string, message: string, field: Array<string> | null, elementIndex: number | null = null) =>
      errors.push({ field, message, code, elementIndex })
    const injected = ctx.injectedErrors?.get(input.ownerId)
    if (injected !== undefined) return fail(injected.code, injected.message, at("ownerId"))
    const owner = parseGid(input.ownerId)
    if (owner === undefined) return fail("INVALID", "Owner is not a valid global ID.", at("ownerId"))
    const store = storeOf(ctx, owner.type)
    if (store === undefined) {
      return fail("INVALID", `Owner type ${owner.type} is not supported by the Shopify simulator.`, at("ownerId"))
    }
    const num = store.numOf(input.ownerId)
    if (num === undefined) return fail("INVALID", "Owner does not exist.", at("ownerId"))
    const namespace = resolveNamespace(input.namespace, ctx.appNamespace)
    const before = errors.length
    if (namespace.length < 3) fail("TOO_SHORT", "Namespace is too short (minimum is 3 characters)", at("namespace"))
    else if (namespace.length > 255) fail("TOO_LONG", "Namespace is too long (maximum is 255 characters)", at("namespace"))
    else if (!/^[A-Za-z0-9_-]+$/.test(namespace)) fail("INVALID", "Namespace contains one or more invalid characters.", at("namespace"))
    if (input.key.length < 2) fail("TOO_SHORT", "Key is too short (minimum is 2 characters)", at("key"))
    else if (input.key.length > 64) fail("TOO_LONG", "Key is too long (maximum is 64 characters)", at("key"))
    else if (!/^[A-Za-z0-9_-]+$/.test(input.key)) fail("INVALID", "Key contains one or more invalid characters.", at("key"))
    if (errors.length > before) return
    const existing = store.metafield(num, namespace, input.key)
    const type = input.type ?? existing?.type
    if (type === undefined || type === "") return fail("BLANK", "Type can't be blank.", at("type"))
    if (!isKnownMetafieldType(type)) {
      return fail("INVALID_TYPE", `Type '${type}' is not a valid metafield type.`, at("type"))
    }
    if (input.value === "") return fail("BLANK", "Value can't be blank.", at("value"))
    const invalid = validateMetafieldValue(type, input.value, ctx.shopCurrency)
    if (invalid !== undefined) return fail("INVALID_VALUE", invalid.message, at("value"), invalid.elementIndex)
    if ("compareDigest" in input && input.compareDigest !== undefined) {
      if (input.compareDigest === null) {
        if (existing !== undefined) {
          return fail("STALE_OBJECT", "The metafield already exists; `compareDigest: null` requires that it does not.", at())
        }
      } else if (!/^[0-9a-f]{64}$/.test(input.compareDigest)) {
        return fail("INVALID_COMPARE_DIGEST", "The compareDigest is invalid.", at("compareDigest"))
      } else if (existing === undefined || metafieldDigest(existing) !== input.compareDigest) {
        return fail(
          "STALE_OBJECT",
          "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.",
          at()
        )
      }
    }
    planned.push({ store, num, namespace, key: input.key, type, value: input.value })
  })
  return errors.length > 0 ? { planned: [], userErrors: errors } : { planned, userErrors: [] }
}

/**
 * Runs `metafieldsSet`. Atomic: on any userError nothing is written and `metafields` is
 * empty. Returns the records in input order on success.
 */
export const metafieldsSet = (
  ctx: MetafieldsContext,
  inputs: ReadonlyArray<MetafieldsSetInput>
): { readonly metafields: ReadonlyArray<MetafieldRecord>; readonly userErrors: ReadonlyArray<MetafieldsSetUserError> } => {
  const { planned, userErrors } = planMetafieldsSet(ctx, inputs)
  if (userErrors.length > 0) return { metafields: [], userErrors }
  return { metafields: planned.map((p) => p.store.upsertMetafield(p.num, p, ctx.now)), userErrors: [] }
}

/**
 * Runs `metafieldsDelete`: entries that do not exist come back as `null` in
 * `deletedMetafields`. Validation errors (bad owner) abort the whole call.
 */
export const metafieldsDelete = (
  ctx: MetafieldsContext,
  inputs: ReadonlyArray<MetafieldIdentifierInput>
): {
  readonly deletedMetafields: ReadonlyArray<MetafieldIdentifierInput | null> | null
  readonly userErrors: ReadonlyArray<UserError>
} => {
  const errors: Array<UserError> = []
  const planned: Array<{ store: MetafieldOwnerStore; num: number; namespace: string; input: MetafieldIdentifierInput }> = []
  inputs.forEach((input, index) => {
    const injected = ctx.injectedErrors?.get(input.ownerId)
    if (injected !== undefined) {
      errors.push({ field: ["metafields", String(index), "ownerId"], message: injected.message })
      return
    }
    const owner = parseGid(input.ownerId)
    const store = owner === undefined ? undefined : storeOf(ctx, owner.type)
    const num = store?.numOf(input.ownerId)
    if (store === undefined || num === undefined) {
      errors.push({ field: ["metafields", String(index), "ownerId"], message: "Owner does not exist." })
      return
    }
    planned.push({ store, num, namespace: resolveNamespace(input.namespace, ctx.appNamespace), input })
  })
  if (errors.length > 0) return { deletedMetafields: null, userErrors: errors }
  const deleted = planned.map((p) =>
    p.store.deleteMetafield(p.num, p.namespace, p.input.key)
      ? { ownerId: p.input.ownerId, namespace: p.namespace, key: p.input.key }
      : null
  )
  return { deletedMetafields: deleted, userErrors: [] }
}
