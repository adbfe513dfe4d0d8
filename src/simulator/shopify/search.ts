/**
 * Shopify's search syntax (https://shopify.dev/docs/api/usage/search-syntax), as used by
 * `products(query:)` and `bulkOperations(query:)`: `field:value` terms, quoted phrases,
 * trailing `*` prefix match, comparisons (`id:>=5`), implicit AND, explicit `AND` / `OR` /
 * `NOT` / `-term`, and parentheses. Precedence: NOT > AND (implicit or explicit) > OR.
 */

/** A single `field:value` (or bare `value`) term. */
export interface SearchTerm {
  readonly kind: "term"
  readonly field: string | undefined
  readonly comparator: ":" | ">" | ">=" | "<" | "<="
  readonly value: string
  readonly quoted: boolean
  /** The unquoted value ended with `*`: match it as a prefix (the `*` is removed). */
  readonly prefix: boolean
}

export type SearchNode =
  | SearchTerm
  | { readonly kind: "and"; readonly children: ReadonlyArray<SearchNode> }
  | { readonly kind: "or"; readonly children: ReadonlyArray<SearchNode> }
  | { readonly kind: "not"; readonly child: SearchNode }
  | { readonly kind: "all" }

type Token =
  | { readonly kind: "lparen" }
  | { readonly kind: "rparen" }
  | { readonly kind: "and" }
  | { readonly kind: "or" }
  | { readonly kind: "not" }
  | { readonly kind: "term"; readonly term: SearchTerm; readonly negated: boolean }

const tokenize = (input: string): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  const n = input.length
  while (i < n) {
    const c = input[i] ?? ""
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === "(") {
      tokens.push({ kind: "lparen" })
      i++
      continue
    }
    if (c === ")") {
      tokens.push({ kind: "rparen" })
      i++
      continue
    }
    let negated = false
    if (c === "-" && i + 1 < n && !/[\s()]/.test(input[i + 1] ?? " ")) {
      negated = true
      i++
    }
    // Read a word: a run without whitespace/parens, where a quote starts a quoted run.
    let field: string | undefined
    let comparator: SearchTerm["comparator"] = ":"
    let value = ""
    let quoted = false
    let raw = ""
    while (i < n) {
      const ch = input[i] ?? ""
      if (/[\s()]/.test(ch)) break
      if (ch === '"' || ch === "'") {
        const end = input.indexOf(ch, i + 1)
        const stop = end === -1 ? n : end
        value += input.slice(i + 1, stop)
        quoted = true
        i = stop + 1
        continue
      }
      if (ch === ":" && field === undefined && !quoted) {
        field = (raw + value).toLowerCase()
        value = ""
        raw = ""
        i++
        const rest = input.slice(i, i + 2)
        if (rest.startsWith(">=") || rest.startsWith("<=")) {
          comparator = rest as ">=" | "<="
          i += 2
        } else if (rest.startsWith(">") || rest.startsWith("<")) {
          comparator = rest[0] as ">" | "<"
          i += 1
        }
        continue
      }
      value += ch
      i++
    }
    if (!negated && field === undefined && !quoted && (value === "AND" || value === "OR" || value === "NOT")) {
      tokens.push({ kind: value === "AND" ? "and" : value === "OR" ? "or" : "not" })
      continue
    }
    const prefix = !quoted && value.endsWith("*")
    tokens.push({
      kind: "term",
      negated,
      term: { kind: "term", field, comparator, value: prefix ? value.slice(0, -1) : value, quoted, prefix }
    })
  }
  return tokens
}

/** Parses a search string; never throws (stray operators/parentheses are tolerated). */
export const parseSearch = (input: string | null | undefined): SearchNode => {
  const tokens = tokenize(input ?? "")
  let pos = 0
  const peek = () => tokens[pos]
  const parseOr = (): SearchNode => {
    const children: Array<SearchNode> = [parseAnd()]
    while (peek()?.kind === "or") {
      pos++
      children.push(parseAnd())
    }
    return children.length === 1 ? (children[0] as SearchNode) : { kind: "or", children }
  }
  const parseAnd = (): SearchNode => {
    const children: Array<SearchNode> = []
    for (;;) {
      const t = peek()
      if (t === undefined || t.kind === "rparen" || t.kind === "or") break
      if (t.kind === "and") {
        pos++
        continue
      }
      children.push(parseUnary())
    }
    if (children.length === 0) return { kind: "all" }
    return children.length === 1 ? (children[0] as SearchNode) : { kind: "and", children }
  }
  const parseUnary = (): SearchNode => {
    const t = peek()
    if (t?.kind === "not") {
      pos++
      return { kind: "not", child: parseUnary() }
    }
    return parsePrimary()
  }
  const parsePrimary = (): SearchNode => {
    const t = peek()
    pos++
    if (t === undefined) return { kind: "all" }
    if (t.kind === "lparen") {
      const inner = parseOr()
      if (peek()?.kind === "rparen") pos++
      return inner
    }
    if (t.kind === "term") return t.negated ? { kind: "not", child: t.term } : t.term
    return { kind: "all" }
  }
  const root = parseOr()
  // Unbalanced ")" — keep parsing what follows as further AND-ed terms.
  if (pos < tokens.length) {
    const rest: Array<SearchNode> = [root]
    while (pos < tokens.length) {
      if (peek()?.kind === "rparen") {
        pos++
        continue
      }
      rest.push(parseOr())
    }
    return { kind: "and", children: rest }
  }
  return root
}

/** How one search field is evaluated against an item. */
export type FieldPredicate<T> = (item: T, term: SearchTerm) => boolean

/** A search field that is not known for the resource (Shopify ignores it and warns). */
export interface SearchWarning {
  readonly field: string
  readonly message: string
}

/**
 * Compiles a search into a predicate. Unknown fields are ignored (match everything) and
 * reported through `warnings`, as Shopify does in `extensions.search`.
 */
export const compileSearch = <T>(
  node: SearchNode,
  fields: Readonly<Record<string, FieldPredicate<T>>>,
  defaultField: FieldPredicate<T>
): { readonly predicate: (item: T) => boolean; readonly warnings: ReadonlyArray<SearchWarning> } => {
  const warnings: Array<SearchWarning> = []
  const compile = (n: SearchNode): ((item: T) => boolean) => {
    switch (n.kind) {
      case "all":
        return () => true
      case "not": {
        const inner = compile(n.child)
        return (item) => !inner(item)
      }
      case "and": {
        const parts = n.children.map(compile)
        return (item) => parts.every((p) => p(item))
      }
      case "or": {
        const parts = n.children.map(compile)
        return (item) => parts.some((p) => p(item))
      }
      case "term": {
        if (n.field === undefined) return (item) => defaultField(item, n)
        const handler = fields[n.field]
        if (handler === undefined) {
          warnings.push({ field: n.field, message: "Invalid search field for this query." })
          return () => true
        }
        return (item) => handler(item, n)
      }
    }
  }
  return { predicate: compile(node), warnings }
}

// ---------------------------------------------------------------------------------------
// Reusable matchers

/** Lower-cased alphanumeric word tokens. */
export const words = (text: string): Array<string> => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0)

/**
 * Word-phrase match as Shopify's tokenised text fields do: the term's words must appear
 * consecutively; with a prefix term the last word only needs to be a prefix.
 */
export const phraseMatch = (text: string, term: SearchTerm): boolean => {
  const needle = words(term.value)
  if (needle.length === 0) return term.prefix
  const hay = words(text)
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      const h = hay[i + j] ?? ""
      const w = needle[j] ?? ""
      const last = j === needle.length - 1
      if (last && term.prefix ? !h.startsWith(w) : h !== w) continue outer
    }
    return true
  }
  return false
}

/** Case-insensitive equality (or prefix) on a whole value; unquoted `a,b` means a OR b. */
export const exactMatch = (value: string, term: SearchTerm): boolean => {
  const candidates = term.quoted ? [term.value] : term.value.split(",")
  const v = value.toLowerCase()
  return candidates.some((c) => {
    const cc = c.toLowerCase()
    return term.prefix ? v.startsWith(cc) : v === cc
  })
}

/** Numeric comparison for terms like `id:>=1234`. */
export const numberMatch = (value: number, term: SearchTerm): boolean => {
  const raw = term.value.includes("/") ? (term.value.split("/").pop() ?? "") : term.value
  const target = Number(raw)
  if (!Number.isFinite(target)) return false
  switch (term.comparator) {
    case ":":
      return value === target
    case ">":
      return value > target
    case ">=":
      return value >= target
    case "<":
      return value < target
    case "<=":
      return value <= target
  }
}

/** Time comparison for `created_at:>'2026-01-01'`; `:` compares at day/second granularity. */
export const timeMatch = (valueMs: number | null, term: SearchTerm): boolean => {
  if (valueMs === null) return false
  const target = Date.parse(term.value)
  if (Number.isNaN(target)) return false
  switch (term.comparator) {
    case ":": {
      const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(term.value)
      return dayOnly ? valueMs >= target && valueMs < target + 86_400_000 : valueMs === target
    }
    case ">":
      return valueMs > target
    case ">=":
      return valueMs >= target
    case "<":
      return valueMs < target
    case "<=":
      return valueMs <= target
  }
}
