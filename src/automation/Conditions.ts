/**
 * Rule conditions in CEL (issue 11 §2): an optional expression over three variables —
 * `event` (the trigger's own fields, e.g. `baselineDays`; not its `resources`), `resource`
 * (`{ resourceType, resourceId, payload }`, one of the trigger's resources) and `shop`
 * (`{ domain, plan, timeZone }`) — that decides whether a rule fires for a resource.
 *
 * Evaluation is `@bufbuild/cel` (standard functions plus its `strings` extension). Its exported
 * API parses and evaluates but does not type-check (its checker is internal and knows only
 * constants and identifiers), so {@link checkCondition} checks what it can itself, from the
 * trigger's payload Schema (`domain/automation/Triggers.ts`) and the overload declarations the
 * library ships with its functions:
 * - unknown variables, unknown fields of `event`/`resource`/`resource.payload`/`shop` (also
 *   inside `has()`), unknown functions;
 * - operators and functions applied to types none of their overloads take (`'x' > 3`,
 *   `resource.payload.nowClicks * 2`, `'a' in resource.payload.title`), `&&`/`||`/`!`/`?:` and
 *   macro predicates that are not booleans, `==` between types that are never equal;
 * - a result that is not a boolean (statically; and, when the type is only known at run time,
 *   by evaluating on a sample built from the Schema).
 * Every problem is reported (not only the first), each with its position.
 *
 * **Numbers.** Trigger values are JSON, whose numbers are floats: every JSON number is a CEL
 * `double`, whole or not (42 and 42.5 alike — a whole number is not turned into an `int`). CEL
 * compares numbers across types by value (`resource.payload.dropPct > 30`, `event.baselineDays
 * == 14`, `resource.payload.status in [404, 410]` all work with the `int` literals as written),
 * but its arithmetic does not mix them: `resource.payload.nowClicks * 2` is rejected when the
 * rule is saved (write `2.0`, or `int(resource.payload.nowClicks) * 2`).
 *
 * **Positions.** `offset` is the 0-based index in the expression (a JS string index), `line` and
 * `column` are 1-based. Parse errors carry the parser's position; check errors and evaluation
 * errors carry the position of the sub-expression at fault (for an operator, the operator).
 *
 * **Evaluation** is pure and deterministic (CEL has no clock and no I/O; no such function is
 * registered), and never throws: a runtime error (a missing key, a null where a number was
 * expected) or a non-boolean result is a {@link ConditionError} — the dispatcher records it as
 * the skip reason "condition error: …".
 */
import { celEnv, celType, isCelError, parse, plan } from "@bufbuild/cel"
import type { CelEnv, CelInput, CelResult, CelType } from "@bufbuild/cel"
import { strings } from "@bufbuild/cel/ext"
import { Result, Schema, SchemaAST } from "effect"
import { TRIGGER_CATALOG, type TriggerEventName } from "../../domain/automation/Triggers.ts"

/** Longest expression accepted (characters). */
export const MAX_CONDITION_LENGTH = 2_000

/** How many compiled conditions the default cache keeps (least recently used goes first). */
export const CONDITION_CACHE_CAPACITY = 1_024

export const CONDITION_ERROR_KINDS = [
  "too_long",
  "syntax",
  "unknown_variable",
  "unknown_field",
  "unknown_function",
  "type",
  "not_boolean",
  "runtime"
] as const
export type ConditionErrorKind = typeof CONDITION_ERROR_KINDS[number]

/**
 * A problem with a condition: found when checking it (a rule that cannot be saved) or when
 * evaluating it (a skip). `message` is plain language, without the position; the position is in
 * `offset` (0-based) and `line`/`column` (1-based) when known.
 */
export class ConditionError extends Schema.TaggedError<ConditionError>()("ConditionError", {
  kind: Schema.Literals(CONDITION_ERROR_KINDS),
  message: Schema.String,
  offset: Schema.optional(Schema.Number),
  line: Schema.optional(Schema.Number),
  column: Schema.optional(Schema.Number)
}) {}

/** The message with its position, e.g. `nothing after '>' (line 1, column 26)`. */
export const describeConditionError = (e: ConditionError): string =>
  e.line !== undefined && e.column !== undefined ? `${e.message} (line ${e.line}, column ${e.column})` : e.message

/** A checked expression, ready to evaluate any number of times. */
export interface CompiledExpression {
  readonly expression: string
  /** The result type the checker could establish (`bool`, or `dyn` when only known at run time). */
  readonly resultType: string
  /** @internal the library's evaluation plan */
  readonly run: (bindings: Readonly<Record<string, unknown>>) => CelResult
  /** @internal expression id → offset, and select id → operand path (for runtime messages) */
  readonly positions: Readonly<Record<string, number>>
  readonly selectPaths: ReadonlyMap<string, string>
}

/** A condition checked against one trigger's variables. */
export interface CompiledCondition extends CompiledExpression {
  readonly triggerEvent: TriggerEventName
}

/**
 * What a condition sees for one resource of a trigger: JSON values (anything else — a `Date`, a
 * function — is a runtime error when the condition reads it, not a throw).
 */
export interface ConditionInput {
  /**
   * The trigger's own fields. Passing the whole trigger is fine; the checker only lets a
   * condition read the Schema's fields other than `resources` (one resource at a time).
   */
  readonly event: Readonly<Record<string, unknown>>
  readonly resource: {
    readonly resourceType: string
    readonly resourceId: string
    readonly payload: unknown
  }
  readonly shop: { readonly domain: string; readonly plan: string; readonly timeZone: string }
}

// --- the static types the checker works with ----------------------------------------------

type PrimName = "bool" | "int" | "uint" | "double" | "string" | "bytes" | "null_type" | "type" | "timestamp" | "duration"

/** A CEL type as far as the checker knows it. A `struct` is a map whose keys are known. */
type T =
  | { readonly kind: "dyn" }
  | { readonly kind: "prim"; readonly name: PrimName }
  | { readonly kind: "list"; readonly elem: T }
  | { readonly kind: "map"; readonly key: T; readonly value: T }
  | { readonly kind: "struct"; readonly path: string; readonly fields: ReadonlyMap<string, T> }

const DYN: T = { kind: "dyn" }
const prim = (name: PrimName): T => ({ kind: "prim", name })
const BOOL = prim("bool")
const INT = prim("int")
const UINT = prim("uint")
const DOUBLE = prim("double")
const STRING = prim("string")
const BYTES = prim("bytes")
const NULL = prim("null_type")
const TYPE = prim("type")
const listOf = (elem: T): T => ({ kind: "list", elem })
const mapOf = (key: T, value: T): T => ({ kind: "map", key, value })
const struct = (path: string, fields: ReadonlyArray<readonly [string, T]>): T => ({ kind: "struct", path, fields: new Map(fields) })

const show = (t: T): string => {
  switch (t.kind) {
    case "dyn":
      return "dyn"
    case "prim":
      return t.name
    case "list":
      return `list(${show(t.elem)})`
    case "map":
      return `map(${show(t.key)}, ${show(t.value)})`
    case "struct":
      return "map"
  }
}

/** "a double", "an int", "a map". */
const article = (t: T): string => {
  const name = show(t)
  return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`
}

const isNumeric = (t: T): boolean => t.kind === "prim" && (t.name === "int" || t.name === "uint" || t.name === "double")

const unify = (a: T, b: T): T => {
  if (a === b) return a
  if (a.kind === "list" && b.kind === "list") return listOf(unify(a.elem, b.elem))
  if (a.kind === "map" && b.kind === "map") return mapOf(unify(a.key, b.key), unify(a.value, b.value))
  if (a.kind === "prim" && b.kind === "prim" && a.name === b.name) return a
  return DYN
}
const unifyAll = (ts: ReadonlyArray<T>): T => (ts.length === 0 ? DYN : ts.reduce(unify))

/** An accumulator's type: whatever a literal started it as, its elements can become anything. */
const widen = (t: T): T => (t.kind === "list" ? listOf(DYN) : t.kind === "map" || t.kind === "struct" ? mapOf(DYN, DYN) : t)

/** The library's declared parameter and result types, in the checker's terms. */
const fromLibrary = (t: CelType): T => {
  switch (t.kind) {
    case "scalar":
      return t.scalar === "dyn" ? DYN : prim(t.scalar)
    case "list":
      return listOf(fromLibrary(t.element))
    case "map":
      return mapOf(fromLibrary(t.key), fromLibrary(t.value))
    case "object":
      return t.name === "google.protobuf.Timestamp" ? prim("timestamp") : t.name === "google.protobuf.Duration" ? prim("duration") : DYN
  }
}

/** Could a value of type `actual` be passed where the library declares `param`? (dyn: maybe) */
const fits = (actual: T, param: CelType): boolean => {
  if (actual.kind === "dyn") return true
  switch (param.kind) {
    case "scalar":
      return param.scalar === "dyn" || (actual.kind === "prim" && actual.name === param.scalar)
    case "list":
      return actual.kind === "list" && fits(actual.elem, param.element)
    case "map":
      return actual.kind === "map" || actual.kind === "struct"
    case "object": {
      const want = fromLibrary(param)
      return want.kind === "dyn" || (want.kind === "prim" && actual.kind === "prim" && actual.name === want.name)
    }
  }
}

// --- the trigger's variables, from its Schema ---------------------------------------------

const memberTypes = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.AST> =>
  ast._tag === "Union" ? ast.types.flatMap(memberTypes) : [ast]

/**
 * A Schema's decoded side as a CEL type: strings, numbers (always `double`, see the module doc),
 * booleans, arrays, structs (maps with known keys), records (maps). A nullable or optional field
 * has its value's type (`== null` and `has()` are how a condition tests for the absence).
 */
const fromSchema = (ast: SchemaAST.AST, path: string): T => {
  switch (ast._tag) {
    case "String":
    case "TemplateLiteral":
      return STRING
    case "Number":
      return DOUBLE
    case "Boolean":
      return BOOL
    case "Null":
      return NULL
    case "Literal":
      return typeof ast.literal === "string" ? STRING : typeof ast.literal === "number" ? DOUBLE : typeof ast.literal === "boolean" ? BOOL : DYN
    case "Arrays":
      return listOf(unifyAll([...ast.elements, ...ast.rest].map((e) => fromSchema(e, path))))
    case "Objects":
      if (ast.indexSignatures.length === 0) {
        return struct(path, ast.propertySignatures.map((p) => [String(p.name), fromSchema(p.type, `${path}.${String(p.name)}`)] as const))
      }
      return ast.propertySignatures.length === 0 ? mapOf(STRING, unifyAll(ast.indexSignatures.map((i) => fromSchema(i.type, path)))) : mapOf(STRING, DYN)
    case "Union": {
      const present = memberTypes(ast).filter((m) => m._tag !== "Undefined" && m._tag !== "Null")
      return present.length === 0 ? NULL : unifyAll(present.map((m) => fromSchema(m, path)))
    }
    case "Suspend":
      return fromSchema(ast.thunk(), path)
    default:
      return DYN
  }
}

const SHOP_TYPE = struct("shop", [["domain", STRING], ["plan", STRING], ["timeZone", STRING]])

const declarationsCache = new Map<string, ReadonlyMap<string, T>>()

/** `event`, `resource` and `shop` as the trigger's Schema describes them. */
const triggerDeclarations = (triggerEvent: TriggerEventName): ReadonlyMap<string, T> | undefined => {
  const cached = declarationsCache.get(triggerEvent)
  if (cached !== undefined) return cached
  const entry = TRIGGER_CATALOG.find((t) => t.event === triggerEvent)
  if (entry === undefined) return undefined
  const ast = SchemaAST.toType(entry.schema.ast)
  if (ast._tag !== "Objects") return undefined
  const eventFields: Array<readonly [string, T]> = []
  let resource: T = struct("resource", [["resourceType", STRING], ["resourceId", STRING], ["payload", mapOf(STRING, DYN)]])
  for (const p of ast.propertySignatures) {
    const name = String(p.name)
    if (name !== "resources") {
      eventFields.push([name, fromSchema(p.type, `event.${name}`)])
      continue
    }
    const list = fromSchema(p.type, "resource")
    if (list.kind === "list" && list.elem.kind === "struct") resource = list.elem
  }
  const declarations = new Map<string, T>([["event", struct("event", eventFields)], ["resource", resource], ["shop", SHOP_TYPE]])
  declarationsCache.set(triggerEvent, declarations)
  return declarations
}

/** A value of the type, for the sample evaluation of a `dyn`-typed condition. */
const sampleOf = (t: T): unknown => {
  switch (t.kind) {
    case "dyn":
      return null
    case "prim":
      return t.name === "bool" ? false : t.name === "string" ? "" : t.name === "double" ? 0 : t.name === "int" ? 0n : null
    case "list":
      return []
    case "map":
      return {}
    case "struct":
      return Object.fromEntries([...t.fields].map(([k, v]) => [k, sampleOf(v)]))
  }
}

// --- parsing and checking ------------------------------------------------------------------

/** One environment for checking, planning and the conformance suite: standard CEL + strings. */
const environment: CelEnv = celEnv({ funcs: strings })

type Parsed = ReturnType<typeof parse>
type Expr = Parsed["expr"]

const TYPE_NAMES = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "google.protobuf.Timestamp", "google.protobuf.Duration"])

const OPERATORS: Readonly<Record<string, string>> = {
  "_+_": "+",
  "_-_": "-",
  "_*_": "*",
  "_/_": "/",
  "_%_": "%",
  "-_": "-",
  "!_": "!",
  "_<_": "<",
  "_<=_": "<=",
  "_>_": ">",
  "_>=_": ">=",
  "_==_": "==",
  "_!=_": "!=",
  "@in": "in",
  "_&&_": "&&",
  "_||_": "||",
  "_?_:_": "?:",
  "_[_]": "[]"
}
const ARITHMETIC = new Set(["_+_", "_-_", "_*_", "_/_", "_%_"])
const operatorName = (fn: string): string => OPERATORS[fn] ?? fn

/** Offset → 1-based line and column. */
const locate = (source: string, offset: number): { readonly offset: number; readonly line: number; readonly column: number } => {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { offset, line, column: offset - lineStart + 1 }
}

const errorAt = (source: string, kind: ConditionErrorKind, message: string, offset: number | undefined): ConditionError =>
  new ConditionError(offset === undefined ? { kind, message } : { kind, message, ...locate(source, offset) })

/** The dotted name a chain of selects on an identifier spells (`google.protobuf.Timestamp`). */
const qualifiedName = (e: Expr): string | undefined => {
  switch (e.exprKind.case) {
    case "identExpr":
      return e.exprKind.value.name.replace(/^\./, "")
    case "selectExpr": {
      const operand = e.exprKind.value.operand
      const head = operand === undefined || e.exprKind.value.testOnly ? undefined : qualifiedName(operand)
      return head === undefined ? undefined : `${head}.${e.exprKind.value.field}`
    }
    default:
      return undefined
  }
}

const syntaxMessage = (source: string, e: unknown): { readonly message: string; readonly offset: number | undefined } => {
  if (e instanceof RangeError) return { message: "the expression is nested too deeply", offset: undefined }
  const err = e as { readonly message?: unknown; readonly rawMessage?: unknown; readonly found?: unknown; readonly expected?: unknown; readonly location?: { readonly start?: { readonly offset?: unknown } } }
  const offset = typeof err.location?.start?.offset === "number" ? err.location.start.offset : undefined
  const raw = typeof err.rawMessage === "string" ? err.rawMessage : typeof err.message === "string" ? err.message : String(e)
  if (offset === undefined || !("found" in err)) return { message: raw, offset }
  // A dangling operator (`resource.payload.dropPct >`): say what is missing rather than what the
  // grammar expected next.
  const rest = source.slice(offset).trim()
  if (/^(?:[<>=!]=?|&&|\|\||[-+*/%?:.,])$/.test(rest)) return { message: `nothing after '${rest}': the expression is incomplete`, offset }
  const found = typeof err.found === "string" && err.found.length > 0 ? `'${err.found}'` : "the end of the expression"
  const expected = Array.isArray(err.expected) ?
    err.expected.map((x: { readonly description?: unknown; readonly value?: unknown }) => String(x.description ?? x.value)).filter((x) => x !== "whitespace" && x !== "comment") :
    []
  const wanted = expected.length === 0 ? "" : expected.length <= 4 ? `; expected ${expected.map((x) => (x === "end of input" ? "the end of the expression" : x)).join(" or ")}` : ""
  return { message: `syntax error: unexpected ${found}${wanted}`, offset }
}

interface Checker {
  readonly source: string
  readonly positions: Readonly<Record<string, number>>
  readonly errors: Array<ConditionError>
  readonly selectPaths: Map<string, string>
  /** The type found for each expression id. */
  readonly types: Map<string, T>
  /** Ids of comprehension steps: their `&&`/`||`/`?:` is a macro's predicate, not the user's. */
  readonly macroSteps: Set<string>
  /** What to say after "unknown variable 'x'" (which variables there are). */
  readonly variablesHint: string
}

type Scope = ReadonlyMap<string, T>
const withVars = (scope: Scope, vars: ReadonlyArray<readonly [string, T]>): Scope => {
  const next = new Map(scope)
  for (const [name, t] of vars) if (name !== "") next.set(name, t)
  return next
}

const report = (c: Checker, e: Expr, kind: ConditionErrorKind, message: string): T => {
  c.errors.push(errorAt(c.source, kind, message, c.positions[String(e.id)]))
  return DYN
}

const infer = (c: Checker, e: Expr, scope: Scope): T => {
  const t = inferNode(c, e, scope)
  c.types.set(String(e.id), t)
  return t
}

const inferNode = (c: Checker, e: Expr, scope: Scope): T => {
  switch (e.exprKind.case) {
    case "constExpr": {
      const k = e.exprKind.value.constantKind
      switch (k.case) {
        case "boolValue":
          return BOOL
        case "int64Value":
          return INT
        case "uint64Value":
          return UINT
        case "doubleValue":
          return DOUBLE
        case "stringValue":
          return STRING
        case "bytesValue":
          return BYTES
        case "nullValue":
          return NULL
        case "durationValue":
          return prim("duration")
        case "timestampValue":
          return prim("timestamp")
        default:
          return DYN
      }
    }
    case "identExpr": {
      const name = e.exprKind.value.name.replace(/^\./, "")
      const declared = scope.get(name)
      if (declared !== undefined) return declared
      if (TYPE_NAMES.has(name)) return TYPE
      return report(c, e, "unknown_variable", `unknown variable '${name}'${c.variablesHint}`)
    }
    case "selectExpr": {
      const { operand, field, testOnly } = e.exprKind.value
      if (operand === undefined) return DYN
      // CEL resolves `a.b.c` to the longest declared prefix: a variable named `a.b.c`, else
      // field `c` of a variable `a.b`, else … (the recursion on the operand tries each in turn).
      const qualified = testOnly ? undefined : qualifiedName(e)
      if (qualified !== undefined) {
        const declared = scope.get(qualified)
        if (declared !== undefined) return declared
        if (TYPE_NAMES.has(qualified) && !scope.has(qualified.split(".")[0] ?? "")) return TYPE
      }
      const path = qualifiedName(operand)
      if (path !== undefined) c.selectPaths.set(String(e.id), path)
      const fieldType = selectField(c, e, infer(c, operand, scope), field)
      return testOnly ? BOOL : fieldType
    }
    case "callExpr":
      return inferCall(c, e, e.exprKind.value, scope)
    case "listExpr":
      return listOf(unifyAll(e.exprKind.value.elements.map((x) => infer(c, x, scope))))
    case "structExpr": {
      const { messageName, entries } = e.exprKind.value
      const keys: Array<T> = []
      const values: Array<T> = []
      for (const entry of entries) {
        if (entry.keyKind.case === "mapKey") keys.push(infer(c, entry.keyKind.value, scope))
        if (entry.value !== undefined) values.push(infer(c, entry.value, scope))
      }
      return messageName !== "" ? DYN : mapOf(unifyAll(keys), unifyAll(values))
    }
    case "comprehensionExpr": {
      const v = e.exprKind.value
      if (v.iterRange === undefined || v.accuInit === undefined || v.loopCondition === undefined || v.loopStep === undefined || v.result === undefined) return DYN
      const range = infer(c, v.iterRange, scope)
      let first: T = DYN
      let second: T = DYN
      switch (range.kind) {
        case "list":
          if (v.iterVar2 === "") first = range.elem
          else [first, second] = [INT, range.elem]
          break
        case "map":
          ;[first, second] = [range.key, range.value]
          break
        case "struct":
          ;[first, second] = [STRING, unifyAll([...range.fields.values()])]
          break
        case "prim":
          report(c, v.iterRange, "type", `cannot iterate over ${article(range)}: a list or a map is needed`)
          break
        case "dyn":
          break
      }
      const accu = widen(infer(c, v.accuInit, scope))
      const loopScope = withVars(scope, [[v.accuVar, accu], [v.iterVar, first], [v.iterVar2, second]])
      infer(c, v.loopCondition, loopScope)
      c.macroSteps.add(String(v.loopStep.id))
      infer(c, v.loopStep, loopScope)
      return infer(c, v.result, withVars(scope, [[v.accuVar, accu]]))
    }
    default:
      return DYN
  }
}

const selectField = (c: Checker, e: Expr, operand: T, field: string): T => {
  switch (operand.kind) {
    case "dyn":
      return DYN
    case "struct": {
      const t = operand.fields.get(field)
      if (t !== undefined) return t
      const known = [...operand.fields.keys()]
      return report(c, e, "unknown_field", `${operand.path} has no field '${field}'${known.length === 0 ? "" : ` (its fields: ${known.join(", ")})`}`)
    }
    case "map":
      return operand.value
    default:
      return report(c, e, "type", `cannot select '${field}' from ${article(operand)}`)
  }
}

const expectBool = (c: Checker, e: Expr, scope: Scope, where: string): void => {
  const t = infer(c, e, scope)
  if (t.kind !== "dyn" && !(t.kind === "prim" && t.name === "bool")) report(c, e, "type", `${where} needs true or false, not ${article(t)}`)
}

type Call = Extract<Expr["exprKind"], { case: "callExpr" }>["value"]

const inferCall = (c: Checker, e: Expr, call: Call, scope: Scope): T => {
  const fn = call.function
  const args = call.args
  const predicate = c.macroSteps.has(String(e.id)) ? "the predicate of all/exists/exists_one/filter" : undefined
  switch (fn) {
    case "_&&_":
    case "_||_":
      for (const a of args) expectBool(c, a, scope, predicate ?? `'${operatorName(fn)}'`)
      return BOOL
    case "!_":
      for (const a of args) expectBool(c, a, scope, "'!'")
      return BOOL
    case "_?_:_": {
      const [cond, yes, no] = args
      if (cond === undefined || yes === undefined || no === undefined) return DYN
      expectBool(c, cond, scope, predicate ?? "the condition of '?:'")
      return unify(infer(c, yes, scope), infer(c, no, scope))
    }
    case "@not_strictly_false":
    case "__not_strictly_false__":
      for (const a of args) infer(c, a, scope)
      return BOOL
    case "_[_]": {
      const [target, key] = args
      if (target === undefined || key === undefined) return DYN
      const t = infer(c, target, scope)
      const k = infer(c, key, scope)
      switch (t.kind) {
        case "dyn":
          return DYN
        case "list":
          if (k.kind !== "dyn" && !isNumeric(k)) report(c, key, "type", `a list index must be a number, not ${article(k)}`)
          return t.elem
        case "map":
          return t.value
        case "struct": {
          const kind = key.exprKind
          return kind.case === "constExpr" && kind.value.constantKind.case === "stringValue" ? selectField(c, e, t, kind.value.constantKind.value) : DYN
        }
        default:
          return report(c, e, "type", `cannot index ${article(t)}`)
      }
    }
    case "_==_":
    case "_!=_": {
      const [a, b] = args.map((x) => infer(c, x, scope))
      if (
        a !== undefined && b !== undefined && a.kind === "prim" && b.kind === "prim" && a.name !== b.name &&
        a.name !== "null_type" && b.name !== "null_type" && !(isNumeric(a) && isNumeric(b))
      ) {
        report(c, e, "type", `'${operatorName(fn)}' compares ${article(a)} with ${article(b)}: they are never equal`)
      }
      return BOOL
    }
    case "has":
      for (const a of args) infer(c, a, scope)
      return report(c, e, "type", "has() takes a field selection, like has(resource.payload.vendor)")
    case "_[?_]":
    case "_?._":
      for (const a of args) infer(c, a, scope)
      return DYN
  }
  // A namespaced function (`strings.quote(…)`) is a call on a target that names no variable.
  let target = call.target
  let name = fn
  if (target !== undefined) {
    const q = qualifiedName(target)
    if (q !== undefined && !scope.has(q.split(".")[0] ?? "") && environment.funcs.find(`${q}.${fn}`) !== undefined) {
      name = `${q}.${fn}`
      target = undefined
    }
  }
  const group = environment.funcs.find(name)
  const targetType = target === undefined ? undefined : infer(c, target, scope)
  const argTypes = args.map((a) => infer(c, a, scope))
  if (group === undefined) return report(c, e, "unknown_function", `unknown function '${name}'`)
  const matching = [...group].filter((f) =>
    (f.target === undefined) === (targetType === undefined) &&
    f.arguments.length === argTypes.length &&
    (f.target === undefined || targetType === undefined || fits(targetType, f.target)) &&
    argTypes.every((a, i) => {
      const param = f.arguments[i]
      return param !== undefined && fits(a, param)
    }))
  if (matching.length === 0) {
    const shown = `(${argTypes.map(show).join(", ")})${targetType === undefined ? "" : ` on ${article(targetType)}`}`
    const numbersHint = ARITHMETIC.has(fn) && argTypes.some((t) => t.kind === "prim" && t.name === "double") && argTypes.some((t) => t.kind === "prim" && t.name === "int") ?
      ": numbers from a trigger are doubles, so write 2.0 rather than 2 (or convert with int(…))" :
      fn === "@in" && argTypes[1]?.kind === "prim" && argTypes[1].name === "string" ?
      ": 'in' looks in a list or a map; for text use .contains(…)" :
      ""
    return report(c, e, "type", `no overload of '${operatorName(name)}' takes ${shown}${numbersHint}`)
  }
  const results = new Map(matching.map((f) => [String(f.result), f.result] as const))
  const only = results.size === 1 ? [...results.values()][0] : undefined
  return only === undefined ? DYN : fromLibrary(only)
}

interface CompileOptions {
  readonly declarations: Scope
  readonly variablesHint: string
  /** A condition: its result must be a boolean. */
  readonly requireBoolean: boolean
}

const compile = (expression: string, options: CompileOptions): Result.Result<CompiledExpression, ReadonlyArray<ConditionError>> => {
  if (expression.length > MAX_CONDITION_LENGTH) {
    return Result.fail([errorAt(expression, "too_long", `the expression is ${expression.length} characters long; at most ${MAX_CONDITION_LENGTH} are allowed`, MAX_CONDITION_LENGTH)])
  }
  if (expression.trim().length === 0) return Result.fail([errorAt(expression, "syntax", "the expression is empty", 0)])
  let parsed: Parsed
  try {
    parsed = parse(expression)
  } catch (e) {
    const { message, offset } = syntaxMessage(expression, e)
    return Result.fail([errorAt(expression, "syntax", message, offset)])
  }
  const positions = parsed.sourceInfo?.positions ?? {}
  const checker: Checker = {
    source: expression,
    positions,
    errors: [],
    selectPaths: new Map(),
    types: new Map(),
    macroSteps: new Set(),
    variablesHint: options.variablesHint
  }
  const resultType = infer(checker, parsed.expr, options.declarations)
  if (options.requireBoolean) requireBoolean(checker, parsed.expr)
  if (checker.errors.length > 0) return Result.fail(checker.errors)
  let run: (bindings: Readonly<Record<string, unknown>>) => CelResult
  try {
    const program = plan(environment, parsed)
    run = (bindings) => program(bindings as Record<string, CelInput>)
  } catch (e) {
    return Result.fail([errorAt(expression, "syntax", e instanceof Error ? e.message : String(e), 0)])
  }
  const compiled: CompiledExpression = { expression, resultType: show(resultType), run, positions, selectPaths: checker.selectPaths }
  if (options.requireBoolean && resultType.kind === "dyn") {
    // Only known at run time: try a sample of the variables (a runtime error on the sample says
    // nothing — the sample's values are arbitrary — but a value that is not a boolean does).
    const sample = Object.fromEntries([...options.declarations].map(([k, t]) => [k, sampleOf(t)]))
    const r = evaluateExpression(compiled, sample)
    if (Result.isSuccess(r) && typeof r.success !== "boolean") {
      return Result.fail([errorAt(expression, "not_boolean", `a condition must be true or false, but this gives ${describeValue(r.success)}`, 0)])
    }
  }
  return Result.succeed(compiled)
}

/** Where a sub-expression starts: the smallest offset in it. */
const startOf = (c: Checker, e: Expr): number | undefined => {
  let start = c.positions[String(e.id)]
  const visit = (x: Expr | undefined): void => {
    if (x === undefined) return
    const p = c.positions[String(x.id)]
    if (p !== undefined && (start === undefined || p < start)) start = p
    const k = x.exprKind
    switch (k.case) {
      case "selectExpr":
        return visit(k.value.operand)
      case "callExpr":
        visit(k.value.target)
        return k.value.args.forEach(visit)
      case "listExpr":
        return k.value.elements.forEach(visit)
      default:
        return
    }
  }
  visit(e)
  return start
}

/** The condition's value — each branch of a `?:` — must be a boolean (or only known at run time). */
const requireBoolean = (c: Checker, e: Expr): void => {
  const k = e.exprKind
  if (k.case === "callExpr" && k.value.function === "_?_:_" && k.value.args.length === 3) {
    for (const branch of k.value.args.slice(1)) requireBoolean(c, branch)
    return
  }
  const t = c.types.get(String(e.id)) ?? DYN
  if (t.kind !== "dyn" && !(t.kind === "prim" && t.name === "bool")) {
    c.errors.push(errorAt(c.source, "not_boolean", `a condition must be true or false, but this gives ${article(t)}`, startOf(c, e)))
  }
}

/** "a double (42.5)", "a string" — for a value a condition gave. */
const describeValue = (value: unknown): string => {
  let name: string
  try {
    name = celType(value as Parameters<typeof celType>[0]).toString()
  } catch {
    name = typeof value
  }
  const shown = typeof value === "number" || typeof value === "bigint" ? ` (${String(value)})` : typeof value === "string" ? ` ('${value.length > 40 ? `${value.slice(0, 40)}…` : value}')` : ""
  return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}${shown}`
}

// --- the API -------------------------------------------------------------------------------

/**
 * Checks a condition for a trigger, uncached (see {@link checkCondition}): parses it, checks its
 * variables, fields, functions and operand types against the trigger's payload Schema, and that
 * it gives a boolean. Every problem comes back, each with its position.
 */
export const compileCondition = (expression: string, triggerEvent: TriggerEventName): Result.Result<CompiledCondition, ReadonlyArray<ConditionError>> => {
  const declarations = triggerDeclarations(triggerEvent)
  if (declarations === undefined) return Result.fail([new ConditionError({ kind: "unknown_variable", message: `unknown trigger '${triggerEvent}'` })])
  return Result.map(
    compile(expression, { declarations, variablesHint: ": a condition can use event, resource and shop", requireBoolean: true }),
    (compiled): CompiledCondition => ({ ...compiled, triggerEvent })
  )
}

export interface ConditionCache {
  /** {@link compileCondition}, remembered by trigger and expression text. */
  readonly check: (expression: string, triggerEvent: TriggerEventName) => Result.Result<CompiledCondition, ReadonlyArray<ConditionError>>
  readonly size: () => number
}

/**
 * A cache of checked conditions by trigger and expression text, least recently used evicted
 * past `capacity`. Rejections are remembered too (the same text fails the same way). Expressions
 * over {@link MAX_CONDITION_LENGTH} are rejected without being stored.
 */
export const makeConditionCache = (capacity: number = CONDITION_CACHE_CAPACITY): ConditionCache => {
  const entries = new Map<string, Result.Result<CompiledCondition, ReadonlyArray<ConditionError>>>()
  return {
    check: (expression, triggerEvent) => {
      if (expression.length > MAX_CONDITION_LENGTH) return compileCondition(expression, triggerEvent)
      const key = `${triggerEvent}\u0000${expression}`
      const hit = entries.get(key)
      if (hit !== undefined) {
        entries.delete(key)
        entries.set(key, hit)
        return hit
      }
      const result = compileCondition(expression, triggerEvent)
      entries.set(key, result)
      if (entries.size > capacity) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
      return result
    },
    size: () => entries.size
  }
}

const defaultCache = makeConditionCache()

/**
 * Parses and checks a rule's condition for its trigger (cached by text: a rule is evaluated per
 * resource, up to 50 per trigger, hundreds of triggers a second). Success is a compiled
 * condition for {@link evaluateCondition}; failure lists every problem with its position.
 */
export const checkCondition = (expression: string, triggerEvent: TriggerEventName): Result.Result<CompiledCondition, ReadonlyArray<ConditionError>> =>
  defaultCache.check(expression, triggerEvent)

/** The problems of a condition, none if it is fine: the checker `validateRule` is given. */
export const conditionProblems = (expression: string, triggerEvent: TriggerEventName): ReadonlyArray<ConditionError> =>
  Result.match(checkCondition(expression, triggerEvent), { onSuccess: () => [], onFailure: (errors) => errors })

const runtimeError = (compiled: CompiledExpression, error: unknown): ConditionError => {
  const e = error as { readonly message?: unknown; readonly exprId?: unknown }
  const raw = typeof e.message === "string" ? e.message : String(error)
  const id = typeof e.exprId === "bigint" || typeof e.exprId === "number" ? String(e.exprId) : undefined
  const offset = id === undefined ? undefined : compiled.positions[id]
  let message = raw
  const missing = /^field not found: (.*)$/.exec(raw)
  const overload = /^found no matching overload for '([^']*)' applied to '(.*)'$/.exec(raw)
  if (missing !== null) {
    const path = id === undefined ? undefined : compiled.selectPaths.get(id)
    message = path === undefined ? `no such key '${missing[1]}'` : `${path} has no '${missing[1]}'`
  } else if (overload !== null) {
    message = `no overload of '${operatorName(overload[1] ?? "")}' takes ${overload[2]}${(overload[2] ?? "").includes("null_type") ? " (a value is null)" : ""}`
  } else if (raw === "unresolved attribute") {
    message = "unknown variable"
  } else if (error instanceof RangeError) {
    message = "the expression is nested too deeply"
  }
  return errorAt(compiled.expression, "runtime", message, offset)
}

/**
 * Evaluates a compiled expression on bindings (JSON values; numbers are CEL doubles). Pure and
 * deterministic; never throws: a runtime error is a failure.
 */
export const evaluateExpression = (compiled: CompiledExpression, bindings: Readonly<Record<string, unknown>>): Result.Result<unknown, ConditionError> => {
  let value: CelResult
  try {
    value = compiled.run(bindings)
  } catch (e) {
    return Result.fail(runtimeError(compiled, e))
  }
  return isCelError(value) ? Result.fail(runtimeError(compiled, value)) : Result.succeed(value)
}

/**
 * Whether a rule fires for one resource of a trigger. A runtime error or a result that is not a
 * boolean is a failure (the dispatcher's skip reason "condition error: …"), never a throw.
 */
export const evaluateCondition = (compiled: CompiledCondition, input: ConditionInput): Result.Result<boolean, ConditionError> => {
  const r = evaluateExpression(compiled, input as unknown as Readonly<Record<string, unknown>>)
  if (Result.isFailure(r)) return Result.fail(r.failure)
  const value = r.success
  return typeof value === "boolean" ?
    Result.succeed(value) :
    Result.fail(errorAt(compiled.expression, "not_boolean", `the condition gave ${describeValue(value)}, not true or false`, 0))
}

/**
 * Any CEL expression over the given (untyped) variables, through the same parser, checker,
 * environment and evaluation as conditions, without requiring a boolean: for tools and for the
 * CEL conformance suite.
 */
export const compileExpression = (expression: string, variables: ReadonlyArray<string> = []): Result.Result<CompiledExpression, ReadonlyArray<ConditionError>> =>
  compile(expression, {
    declarations: new Map(variables.map((v) => [v, DYN] as const)),
    variablesHint: variables.length === 0 ? "" : `: the variables are ${variables.join(", ")}`,
    requireBoolean: false
  })
