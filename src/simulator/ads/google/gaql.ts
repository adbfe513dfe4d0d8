/**
 * A parser for the part of the Google Ads Query Language the simulator answers:
 *
 *   SELECT f1, f2, … FROM resource
 *   [WHERE cond AND cond …]      cond: f = v | != | > | >= | < | <= | IN (v, …) | NOT IN (…)
 *                                       | BETWEEN v AND v | DURING LAST_7_DAYS
 *   [ORDER BY f [ASC|DESC], …] [LIMIT n] [PARAMETERS …]
 *
 * Values are numbers, 'quoted' or "quoted" strings, or bare enum constants. Keywords are
 * case-insensitive, field names are snake_case (GAQL is snake_case even over REST). Errors
 * carry Google's `QueryError` codes.
 */

/** A malformed or unsupported query: `code` is a `QueryError` enum value. */
export class GaqlError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

export type Literal =
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "constant"; readonly value: string }

export type Operator = "=" | "!=" | ">" | ">=" | "<" | "<=" | "IN" | "NOT IN" | "BETWEEN" | "DURING"

export interface Condition {
  readonly field: string
  readonly op: Operator
  readonly values: ReadonlyArray<Literal>
}

export interface OrderBy {
  readonly field: string
  readonly descending: boolean
}

export interface GaqlQuery {
  readonly select: ReadonlyArray<string>
  readonly from: string
  readonly where: ReadonlyArray<Condition>
  readonly orderBy: ReadonlyArray<OrderBy>
  readonly limit: number | undefined
}

type Token =
  | { readonly t: "word"; readonly v: string }
  | { readonly t: "num"; readonly v: string }
  | { readonly t: "str"; readonly v: string }
  | { readonly t: "sym"; readonly v: string }

const tokenize = (text: string): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/.test(ch)) {
      i++
      continue
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))
    if (word !== null) {
      tokens.push({ t: "word", v: word[0] })
      i += word[0].length
      continue
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i))
    if (num !== null) {
      tokens.push({ t: "num", v: num[0] })
      i += num[0].length
      continue
    }
    if (ch === "'" || ch === '"') {
      let value = ""
      let j = i + 1
      for (;;) {
        if (j >= text.length) throw new GaqlError("UNEXPECTED_END_OF_QUERY", "Unterminated string literal.")
        const c = text[j] as string
        if (c === "\\") {
          const next = text[j + 1]
          if (next === undefined) throw new GaqlError("BAD_ESCAPE_SEQUENCE", "Query contains an invalid escape sequence.")
          value += next
          j += 2
          continue
        }
        if (c === ch) break
        value += c
        j++
      }
      tokens.push({ t: "str", v: value })
      i = j + 1
      continue
    }
    const sym = /^(!=|>=|<=|=|>|<|\(|\)|,)/.exec(text.slice(i))
    if (sym !== null) {
      tokens.push({ t: "sym", v: sym[0] })
      i += sym[0].length
      continue
    }
    throw new GaqlError(ch.charCodeAt(0) > 127 ? "BAD_SYMBOL" : "QUERY_ERROR", `Unexpected character '${ch}' at position ${i}.`)
  }
  return tokens
}

const FIELD = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/

/** Parses `text`; throws `GaqlError`. */
export const parseGaql = (text: string): GaqlQuery => {
  const tokens = tokenize(text)
  let pos = 0
  const peek = (): Token | undefined => tokens[pos]
  const isWord = (token: Token | undefined, ...words: ReadonlyArray<string>): boolean =>
    token !== undefined && token.t === "word" && words.includes(token.v.toUpperCase())
  const expectWord = (word: string, code: string): void => {
    if (!isWord(peek(), word)) throw new GaqlError(code, `Expected ${word}.`)
    pos++
  }
  const field = (): string => {
    const token = peek()
    if (token === undefined || token.t !== "word" || !FIELD.test(token.v)) {
      throw new GaqlError("BAD_FIELD_NAME", `Field name is invalid: ${token === undefined ? "end of query" : token.v}.`)
    }
    pos++
    return token.v
  }
  const literal = (): Literal => {
    const token = peek()
    if (token === undefined) throw new GaqlError("UNEXPECTED_END_OF_QUERY", "Expected a value.")
    pos++
    if (token.t === "num") {
      const value = Number(token.v)
      if (!Number.isFinite(value)) throw new GaqlError("BAD_NUMBER", `Bad number ${token.v}.`)
      return { kind: "number", value }
    }
    if (token.t === "str") return { kind: "string", value: token.v }
    if (token.t === "word" && /^[A-Z][A-Z0-9_]*$/.test(token.v)) return { kind: "constant", value: token.v }
    throw new GaqlError("BAD_VALUE", `Value is invalid: ${token.v}.`)
  }
  const list = (): Array<Literal> => {
    const open = peek()
    if (open === undefined || open.t !== "sym" || open.v !== "(") throw new GaqlError("EXPECTED_LIST", "The operator requires a list of values.")
    pos++
    const values = [literal()]
    for (;;) {
      const token = peek()
      if (token !== undefined && token.t === "sym" && token.v === ",") {
        pos++
        values.push(literal())
        continue
      }
      if (token !== undefined && token.t === "sym" && token.v === ")") {
        pos++
        return values
      }
      throw new GaqlError("QUERY_ERROR", "Expected , or ) in a list.")
    }
  }

  expectWord("SELECT", "EXPECTED_SELECT")
  const select = [field()]
  while (peek()?.t === "sym" && peek()?.v === ",") {
    pos++
    select.push(field())
  }
  expectWord("FROM", "EXPECTED_FROM")
  const resource = peek()
  if (resource === undefined || resource.t !== "word" || !/^[a-z][a-z0-9_]*$/.test(resource.v)) {
    throw new GaqlError("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE", "Invalid resource type was specified in the FROM clause.")
  }
  pos++

  const where: Array<Condition> = []
  if (isWord(peek(), "WHERE")) {
    pos++
    for (;;) {
      const f = field()
      const token = peek()
      let condition: Condition
      if (token?.t === "sym" && ["=", "!=", ">", ">=", "<", "<="].includes(token.v)) {
        pos++
        condition = { field: f, op: token.v as Operator, values: [literal()] }
      } else if (isWord(token, "IN")) {
        pos++
        condition = { field: f, op: "IN", values: list() }
      } else if (isWord(token, "NOT") && isWord(tokens[pos + 1], "IN")) {
        pos += 2
        condition = { field: f, op: "NOT IN", values: list() }
      } else if (isWord(token, "BETWEEN")) {
        pos++
        const low = literal()
        expectWord("AND", "EXPECTED_AND")
        condition = { field: f, op: "BETWEEN", values: [low, literal()] }
      } else if (isWord(token, "DURING")) {
        pos++
        const range = peek()
        if (range === undefined || range.t !== "word") throw new GaqlError("BAD_VALUE", "DURING needs a date range constant.")
        pos++
        condition = { field: f, op: "DURING", values: [{ kind: "constant", value: range.v.toUpperCase() }] }
      } else {
        throw new GaqlError("BAD_OPERATOR", `Invalid operator after ${f}${token === undefined ? "" : `: ${token.v}`}.`)
      }
      where.push(condition)
      if (!isWord(peek(), "AND")) break
      pos++
    }
  }

  const orderBy: Array<OrderBy> = []
  if (isWord(peek(), "ORDER")) {
    pos++
    expectWord("BY", "EXPECTED_BY")
    for (;;) {
      const f = field()
      let descending = false
      if (isWord(peek(), "ASC", "DESC")) {
        descending = (peek() as Token).v.toUpperCase() === "DESC"
        pos++
      }
      orderBy.push({ field: f, descending })
      if (!(peek()?.t === "sym" && peek()?.v === ",")) break
      pos++
    }
  }

  let limit: number | undefined
  if (isWord(peek(), "LIMIT")) {
    pos++
    const token = peek()
    if (token === undefined || token.t !== "num" || !/^\d+$/.test(token.v) || Number(token.v) < 1) {
      throw new GaqlError("BAD_LIMIT_VALUE", "Limit value is invalid.")
    }
    limit = Number(token.v)
    pos++
  }

  if (isWord(peek(), "PARAMETERS")) pos = tokens.length // accepted, not modelled
  if (pos < tokens.length) throw new GaqlError("UNEXPECTED_INPUT", `Unexpected input ${(tokens[pos] as Token).v}.`)
  return { select, from: resource.v, where, orderBy, limit }
}
