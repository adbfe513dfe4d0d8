/**
 * Shopify's Admin API runs graphql-ruby, whose error texts and `extensions` differ from
 * graphql-js. This module turns graphql-js parse/validation/variable errors into the
 * shapes Shopify answers with (HTTP 200, `{"errors":[{message, locations, path,
 * extensions:{code,...}}]}`), so clients see the real messages.
 */
import {
  GraphQLError,
  Kind,
  coerceInputValue,
  isInputType,
  print,
  typeFromAST,
  visit,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode
} from "graphql"

/** One entry of a Shopify `errors` array. */
export interface ShopifyGraphQLError {
  readonly message: string
  readonly locations?: ReadonlyArray<{ readonly line: number; readonly column: number }>
  readonly path?: ReadonlyArray<string | number>
  readonly extensions?: Readonly<Record<string, unknown>>
}

const TOKEN_NAMES: Record<string, string> = {
  "}": "RCURLY",
  "{": "LCURLY",
  "(": "LPAREN",
  ")": "RPAREN",
  "[": "LBRACKET",
  "]": "RBRACKET",
  ":": "COLON",
  "!": "BANG",
  $: "VAR_SIGN",
  "=": "EQUALS",
  "@": "DIR_SIGN",
  "...": "ELLIPSIS",
  "|": "PIPE",
  "&": "AMP"
}

/** graphql-ruby style parse error: `Parse error on "}" (RCURLY) at [1, 10]`. */
export const formatSyntaxError = (error: GraphQLError): ShopifyGraphQLError => {
  const location = error.locations?.[0] ?? { line: 1, column: 1 }
  const found = /found (<EOF>|"([^"]*)"|(Name|String|Int|Float|BlockString) "([^"]*)")/.exec(error.message)
  const unexpected = /Unexpected (<EOF>|"([^"]*)"|(Name|String|Int|Float|BlockString) "([^"]*)"|character: "(.*)")/.exec(
    error.message
  )
  const m = found ?? unexpected
  let message: string
  if (m === null || m[1] === "<EOF>") {
    message = m === null ? `Parse error: ${error.message.replace(/^Syntax Error: /, "")}` : "Unexpected end of document"
  } else if (m[2] !== undefined) {
    message = `Parse error on "${m[2]}" (${TOKEN_NAMES[m[2]] ?? "UNKNOWN_CHAR"}) at [${location.line}, ${location.column}]`
  } else if (m[4] !== undefined) {
    const kind = m[3] === "Name" ? "IDENTIFIER" : m[3] === "BlockString" ? "STRING" : (m[3] ?? "").toUpperCase()
    message = `Parse error on "${m[4]}" (${kind}) at [${location.line}, ${location.column}]`
  } else {
    message = `Parse error on "${m[5] ?? ""}" (UNKNOWN_CHAR) at [${location.line}, ${location.column}]`
  }
  return { message, locations: [{ line: location.line, column: location.column }] }
}

type Ancestry = Map<ASTNode, ReadonlyArray<ASTNode>>

const operationLabel = (node: ASTNode): string | undefined => {
  if (node.kind === Kind.OPERATION_DEFINITION) return node.name ? `${node.operation} ${node.name.value}` : node.operation
  if (node.kind === Kind.FRAGMENT_DEFINITION) return `fragment ${node.name.value}`
  return undefined
}

const buildAncestry = (document: DocumentNode): Ancestry => {
  const map: Ancestry = new Map()
  const stack: Array<ASTNode> = []
  visit(document, {
    enter(node) {
      map.set(node, [...stack])
      stack.push(node)
    },
    leave() {
      stack.pop()
    }
  })
  return map
}

/** graphql-ruby's static-validation `path`: operation label, then field names / fragments. */
const rubyPath = (node: ASTNode | undefined, ancestry: Ancestry): Array<string> | undefined => {
  if (node === undefined) return undefined
  const chain = [...(ancestry.get(node) ?? []), node]
  const path: Array<string> = []
  for (const n of chain) {
    const label = operationLabel(n)
    if (label !== undefined) path.push(label)
    else if (n.kind === Kind.FIELD) path.push(n.name.value)
    else if (n.kind === Kind.INLINE_FRAGMENT) path.push(n.typeCondition ? `... on ${n.typeCondition.name.value}` : "...")
    else if (n.kind === Kind.FRAGMENT_SPREAD) path.push(`... ${n.name.value}`)
    else if (n.kind === Kind.ARGUMENT) path.push(n.name.value)
    else if (n.kind === Kind.VARIABLE_DEFINITION) path.push(`$${n.variable.name.value}`)
  }
  return path
}

const enclosingOperation = (node: ASTNode | undefined, ancestry: Ancestry): string => {
  if (node === undefined) return "anonymous query"
  for (const n of [...(ancestry.get(node) ?? []), node]) {
    if (n.kind === Kind.OPERATION_DEFINITION) return n.name ? n.name.value : `anonymous ${n.operation}`
  }
  return "anonymous query"
}

const stripNonNull = (type: string): string => type.replace(/!$/, "").replace(/^\[(.*?)!?\]$/, "[$1]")

interface Translation {
  readonly message: string
  readonly extensions: Record<string, unknown>
}

const translate = (error: GraphQLError, ancestry: Ancestry): Translation => {
  const msg = error.message
  const node = error.nodes?.[0]
  let m: RegExpExecArray | null
  if ((m = /^Cannot query field "(\w+)" on type "(\w+)"\./.exec(msg))) {
    return {
      message: `Field '${m[1]}' doesn't exist on type '${m[2]}'`,
      extensions: { code: "undefinedField", typeName: m[2], fieldName: m[1] }
    }
  }
  if ((m = /^Unknown argument "(\w+)" on field "(\w+)\.(\w+)"\./.exec(msg))) {
    return {
      message: `Field '${m[3]}' doesn't accept argument '${m[1]}'`,
      extensions: { code: "argumentNotAccepted", name: m[3], typeName: "Field", argumentName: m[1] }
    }
  }
  // graphql-ruby reports an unknown field of an input object literal as an argument it does not accept.
  if ((m = /^Field "(\w+)" is not defined by type "(\w+)"\./.exec(msg))) {
    return {
      message: `InputObject '${m[2]}' doesn't accept argument '${m[1]}'`,
      extensions: { code: "argumentNotAccepted", name: m[2], typeName: "InputObject", argumentName: m[1] }
    }
  }
  if ((m = /^Unknown argument "(\w+)" on directive "@(\w+)"\./.exec(msg))) {
    return {
      message: `Directive '${m[2]}' doesn't accept argument '${m[1]}'`,
      extensions: { code: "argumentNotAccepted", name: m[2], typeName: "Directive", argumentName: m[1] }
    }
  }
  if ((m = /^Field "(\w+)" argument "(\w+)" of type "(.+)" is required, but it was not provided\./.exec(msg))) {
    return {
      message: `Field '${m[1]}' is missing required arguments: ${m[2]}`,
      extensions: { code: "missingRequiredArguments", className: "Field", name: m[1], arguments: m[2] }
    }
  }
  if ((m = /^Field "(\w+)" of type "(.+)" must have a selection of subfields\./.exec(msg))) {
    const typeName = getNamedTypeName(m[2] ?? "")
    return {
      message: `Field must have selections (field '${m[1]}' returns ${typeName} but has no selections. Did you mean '${m[1]} { ... }'?)`,
      extensions: { code: "selectionMismatch", nodeName: `field '${m[1]}'`, typeName }
    }
  }
  if ((m = /^Field "(\w+)" must not have a selection since type "(.+)" has no subfields\./.exec(msg))) {
    const selections =
      node?.kind === Kind.FIELD && node.selectionSet
        ? node.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : "...")).join(", ")
        : ""
    const typeName = getNamedTypeName(m[2] ?? "")
    return {
      message: `Selections can't be made on scalars (field '${m[1]}' returns ${typeName} but has selections [${selections}])`,
      extensions: { code: "selectionMismatch", nodeName: `field '${m[1]}'`, typeName }
    }
  }
  if ((m = /^Variable "\$(\w+)" is not defined/.exec(msg))) {
    return {
      message: `Variable $${m[1]} is used by ${enclosingOperation(node, ancestry)} but not declared`,
      extensions: { code: "variableNotDefined", variableName: m[1] }
    }
  }
  if ((m = /^Variable "\$(\w+)" is never used/.exec(msg))) {
    return {
      message: `Variable $${m[1]} is declared by ${enclosingOperation(node, ancestry)} but not used`,
      extensions: { code: "variableNotUsed", variableName: m[1] }
    }
  }
  if ((m = /^Variable "\$(\w+)" of type "(.+)" used in position expecting type "(.+)"\./.exec(msg))) {
    const [given, expected] = [m[2] ?? "", m[3] ?? ""]
    const kind = stripNonNull(given) === stripNonNull(expected) ? "Nullability mismatch" : "Type mismatch"
    return {
      message: `${kind} on variable $${m[1]} and argument (${given} / ${expected})`,
      extensions: { code: "variableMismatch", variableName: m[1], typeName: given }
    }
  }
  if ((m = /^Unknown type "(\w+)"\./.exec(msg))) {
    const parents = node ? (ancestry.get(node) ?? []) : []
    const variable = [...parents].reverse().find((n) => n.kind === Kind.VARIABLE_DEFINITION)
    if (variable?.kind === Kind.VARIABLE_DEFINITION) {
      return {
        message: `${m[1]} isn't a defined input type (on $${variable.variable.name.value})`,
        extensions: { code: "variableRequiresValidType", typeName: m[1], variableName: variable.variable.name.value }
      }
    }
    return {
      message: `No such type ${m[1]}, so it can't be a fragment condition`,
      extensions: { code: "undefinedType", typeName: m[1] }
    }
  }
  if ((m = /^Unknown fragment "(\w+)"\./.exec(msg))) {
    return { message: `Fragment ${m[1]} was used, but not defined`, extensions: { code: "useAndDefineFragment", fragmentName: m[1] } }
  }
  if ((m = /^Fragment "(\w+)" is never used\./.exec(msg))) {
    return { message: `Fragment ${m[1]} was defined, but not used`, extensions: { code: "useAndDefineFragment", fragmentName: m[1] } }
  }
  if ((m = /can never be of type "(\w+)"/.exec(msg)) && /^Fragment/.test(msg)) {
    const parent = /objects of type "(\w+)"/.exec(msg)?.[1] ?? "?"
    return {
      message: `Fragment on ${m[1]} can't be spread inside ${parent}`,
      extensions: { code: "fragmentSpreadTypeMismatch", typeName: m[1], fragmentName: "unknown", parentName: parent }
    }
  }
  if ((m = /^Unknown directive "@(\w+)"\./.exec(msg))) {
    return { message: `Directive @${m[1]} is not defined`, extensions: { code: "undefinedDirective", directiveName: m[1] } }
  }
  // Literal argument of the wrong type: graphql-js reports on the value node.
  const argument = node ? [...(ancestry.get(node) ?? [])].reverse().find((n) => n.kind === Kind.ARGUMENT) : undefined
  if (argument?.kind === Kind.ARGUMENT && node !== undefined && isValueNode(node)) {
    const owner = [...(ancestry.get(argument) ?? [])].reverse().find((n) => n.kind === Kind.FIELD || n.kind === Kind.DIRECTIVE)
    const ownerName = owner?.kind === Kind.FIELD || owner?.kind === Kind.DIRECTIVE ? owner.name.value : "?"
    const expected = /Expected value of type "(.+?)"/.exec(msg)?.[1] ?? /^(\w+) cannot represent/.exec(msg)?.[1]
    return {
      message: `Argument '${argument.name.value}' on Field '${ownerName}' has an invalid value (${print(argument.value)}). Expected type '${expected ?? "?"}'.`,
      extensions: { code: "argumentLiteralsIncompatible", typeName: "Field", argumentName: argument.name.value }
    }
  }
  return { message: msg, extensions: { code: "validationError" } }
}

const isValueNode = (node: ASTNode): boolean =>
  node.kind === Kind.STRING ||
  node.kind === Kind.INT ||
  node.kind === Kind.FLOAT ||
  node.kind === Kind.BOOLEAN ||
  node.kind === Kind.NULL ||
  node.kind === Kind.ENUM ||
  node.kind === Kind.LIST ||
  node.kind === Kind.OBJECT

const getNamedTypeName = (printed: string): string => printed.replace(/[[\]!]/g, "")

/**
 * Converts graphql-js validation errors into Shopify (graphql-ruby) shaped errors.
 * Missing required arguments on the same field are merged into one message, like Ruby does.
 */
export const formatValidationErrors = (
  document: DocumentNode,
  errors: ReadonlyArray<GraphQLError>
): ReadonlyArray<ShopifyGraphQLError> => {
  const ancestry = buildAncestry(document)
  const out: Array<ShopifyGraphQLError & { node?: ASTNode }> = []
  for (const error of errors) {
    const node = error.nodes?.[0]
    const t = translate(error, ancestry)
    if (t.extensions.code === "missingRequiredArguments") {
      const previous = out.find((e) => e.node === node && e.extensions?.code === "missingRequiredArguments")
      if (previous !== undefined) {
        const args = `${String(previous.extensions?.arguments)}, ${String(t.extensions.arguments)}`
        const index = out.indexOf(previous)
        out[index] = {
          ...previous,
          message: `Field '${String(t.extensions.name)}' is missing required arguments: ${args}`,
          extensions: { ...previous.extensions, arguments: args }
        }
        continue
      }
    }
    const path = rubyPath(node, ancestry)
    out.push({
      message: t.message,
      ...(error.locations ? { locations: error.locations.map((l) => ({ line: l.line, column: l.column })) } : {}),
      ...(path ? { path } : {}),
      extensions: t.extensions,
      ...(node ? { node } : {})
    })
  }
  return out.map(({ node: _node, ...rest }) => rest)
}

const explain = (message: string): { readonly extraPath?: string; readonly explanation: string } => {
  let m: RegExpExecArray | null
  if (/^Expected non-nullable type ".+" not to be null\.$/.test(message)) return { explanation: "Expected value to not be null" }
  if ((m = /^Field "(\w+)" of required type ".+" was not provided\.$/.exec(message))) {
    return { extraPath: m[1] ?? "", explanation: "Expected value to not be null" }
  }
  if ((m = /^Field "(\w+)" is not defined by type "(\w+)"/.exec(message))) {
    return { extraPath: m[1] ?? "", explanation: `Field is not defined on ${m[2]}` }
  }
  if ((m = /^(\w+) cannot represent [^:]*: (.*)$/.exec(message))) {
    return { explanation: `Could not coerce value ${m[2]} to ${m[1]}` }
  }
  if ((m = /^Value "(.*)" does not exist in "(\w+)" enum/.exec(message))) {
    return { explanation: `Expected "${m[1]}" to be one of the ${m[2]} values` }
  }
  if ((m = /^Expected type "(\w+)" to be an object\.$/.exec(message))) {
    return { explanation: `Expected value to be a ${m[1]} object` }
  }
  return { explanation: message }
}

/**
 * Coerces request variables the way graphql-ruby reports them: one error per bad variable,
 * `Variable $input of type T! was provided invalid value for a.b (explanation)`, code
 * `INVALID_VARIABLE`, with `extensions.value` and `extensions.problems`.
 */
export const coerceVariables = (
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  inputs: Readonly<Record<string, unknown>>
):
  | { readonly ok: true; readonly values: Record<string, unknown> }
  | { readonly ok: false; readonly errors: ReadonlyArray<ShopifyGraphQLError> } => {
  const values: Record<string, unknown> = {}
  const errors: Array<ShopifyGraphQLError> = []
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value
    const type = typeFromAST(schema, definition.type)
    if (type === undefined || !isInputType(type)) continue
    const location = { line: definition.loc?.startToken.line ?? 1, column: definition.loc?.startToken.column ?? 1 }
    const hasValue = Object.prototype.hasOwnProperty.call(inputs, name)
    if (!hasValue && definition.defaultValue !== undefined) continue
    const value = hasValue ? inputs[name] : undefined
    const problems: Array<{ path: Array<string | number>; explanation: string }> = []
    const coerced = coerceInputValue(value === undefined ? null : value, type, (path, _invalid, error) => {
      const e = explain(error.message)
      problems.push({ path: e.extraPath !== undefined ? [...path, e.extraPath] : [...path], explanation: e.explanation })
    })
    if (problems.length > 0) {
      const detail = problems
        .filter((p) => p.path.length > 0)
        .map((p) => `for ${p.path.join(".")} (${p.explanation})`)
        .join(", ")
      errors.push({
        message: `Variable $${name} of type ${print(definition.type)} was provided invalid value${detail ? ` ${detail}` : ""}`,
        locations: [location],
        extensions: { code: "INVALID_VARIABLE", value: value === undefined ? null : value, problems }
      })
    } else if (hasValue || value !== undefined) {
      values[name] = coerced
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values }
}
