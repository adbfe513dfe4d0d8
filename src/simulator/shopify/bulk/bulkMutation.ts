/**
 * `bulkOperationRunMutation`: runs the mutation once per line of the staged JSONL file
 * (each line holds the variables), writing `{"data":…,"__lineNumber":n}` (or `errors`)
 * per line. Lines are processed in shuffled batches, so output order differs from input
 * order, as on Shopify; correlate on `__lineNumber`.
 */
import { createReadStream } from "node:fs"
import { createInterface } from "node:readline"
import { Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from "graphql"
import { prng } from "../ids.ts"
import { prepareDocument } from "../schema.ts"
import { resolvers } from "../resolvers.ts"
import type { JsonlWriter } from "./jsonlWriter.ts"
import type { BulkJob } from "./types.ts"

export interface BulkMutationPlan {
  readonly document: DocumentNode
  readonly operation: OperationDefinitionNode
}

const FORBIDDEN = new Set(["bulkOperationRunMutation", "bulkOperationRunQuery"])

/** Validates a bulk mutation document. */
export const planBulkMutation = (
  schema: GraphQLSchema,
  source: string
): { readonly ok: true; readonly plan: BulkMutationPlan } | { readonly ok: false; readonly message: string } => {
  const prepared = prepareDocument(schema, source)
  if (prepared.document === undefined || prepared.errors.length > 0) {
    return { ok: false, message: `Failed to parse the mutation - ${prepared.errors.map((e) => e.message).join(", ")}` }
  }
  const operations = prepared.document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  const operation = operations[0]
  if (operations.length !== 1 || operation === undefined) return { ok: false, message: "The mutation must contain exactly one operation." }
  if (operation.operation !== "mutation") return { ok: false, message: "Bulk mutations must be mutation operations." }
  for (const sel of operation.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) continue
    if (FORBIDDEN.has(sel.name.value)) return { ok: false, message: `${sel.name.value} cannot be used in a bulk mutation.` }
    if (resolvers["Mutation"]?.[sel.name.value] === undefined) {
      return { ok: false, message: `The Shopify simulator does not implement the ${sel.name.value} mutation.` }
    }
  }
  return { ok: true, plan: { document: prepared.document, operation } }
}

/** Executes the planned mutation with one line's variables. */
export type LineExecutor = (variables: Record<string, unknown>) => Promise<Record<string, unknown>>

const BATCH = 16

/** Reads the staged file lazily and writes one result line per input line. */
export class BulkMutationJob implements BulkJob {
  readonly #writer: JsonlWriter
  readonly #execute: LineExecutor
  readonly #lines: AsyncIterator<string>
  readonly #random: (() => number) | undefined
  readonly #close: () => void
  #lineNumber = 0
  objectCount = 0
  rootObjectCount = 0

  constructor(options: { readonly stagedFile: string; readonly writer: JsonlWriter; readonly execute: LineExecutor; readonly shuffleSeed: number | undefined }) {
    this.#writer = options.writer
    this.#execute = options.execute
    const input = createReadStream(options.stagedFile, { encoding: "utf8" })
    const rl = createInterface({ input, crlfDelay: Infinity })
    this.#lines = rl[Symbol.asyncIterator]()
    this.#close = () => {
      rl.close()
      input.destroy()
    }
    this.#random = options.shuffleSeed === undefined ? undefined : prng(options.shuffleSeed)
  }

  get bytesWritten(): number {
    return this.#writer.bytes
  }

  async #runLine(text: string, lineNumber: number): Promise<Record<string, unknown>> {
    let variables: unknown
    try {
      variables = JSON.parse(text)
    } catch (error) {
      return { errors: [{ message: `Invalid JSON on line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}` }], __lineNumber: lineNumber }
    }
    if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
      return { errors: [{ message: `Line ${lineNumber} must be a JSON object of variables.` }], __lineNumber: lineNumber }
    }
    const result = await this.#execute(variables as Record<string, unknown>)
    return { ...result, __lineNumber: lineNumber }
  }

  async step(budget: number): Promise<boolean> {
    let processed = 0
    let done = false
    while (processed < Math.max(1, budget) && !done) {
      const batch: Array<{ text: string; lineNumber: number }> = []
      while (batch.length < Math.min(BATCH, Math.max(1, budget) - processed)) {
        const next = await this.#lines.next()
        if (next.done) {
          done = true
          break
        }
        const lineNumber = this.#lineNumber++
        if (next.value.trim() === "") continue
        batch.push({ text: next.value, lineNumber })
      }
      if (this.#random !== undefined) {
        for (let i = batch.length - 1; i > 0; i--) {
          const j = Math.floor(this.#random() * (i + 1))
          ;[batch[i], batch[j]] = [batch[j] as (typeof batch)[number], batch[i] as (typeof batch)[number]]
        }
      }
      for (const { text, lineNumber } of batch) {
        await this.#writer.write(await this.#runLine(text, lineNumber))
        this.objectCount++
        this.rootObjectCount++
        processed++
      }
    }
    await this.#writer.flush()
    if (done) this.#close()
    return done
  }

  async finish(): Promise<number> {
    this.#close()
    return this.#writer.close()
  }

  async abort(): Promise<void> {
    this.#close()
    await this.#writer.discard()
  }
}
