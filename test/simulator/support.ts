/** Shared helpers for the Shopify simulator tests. */
import { createAdminApiClient, type AdminApiClient } from "@shopify/admin-api-client"
import { ensureShopifySchema } from "../../scripts/fetch-shopify-schema.ts"
import { startShopifySimulator, type RunningShopifySimulator, type StartOptions } from "../../src/simulator/shopify/index.ts"

// The schema normally arrives with `postinstall`; fetch it here too so the suite is self-sufficient.
ensureShopifySchema()

export const SHOP = "acme.myshopify.com"
export const TOKEN = "shpat_acme_test_token"
export const APP_SECRET = "test-app-secret"

/** Starts a simulator on 127.0.0.1:0 with one shop (overridable). */
export const startSim = (options: Partial<StartOptions> = {}): Promise<RunningShopifySimulator> =>
  startShopifySimulator({
    appSecret: APP_SECRET,
    shops: [{ domain: SHOP, accessToken: TOKEN, products: 50 }],
    log: () => undefined,
    ...options
  })

/** The real admin-api-client, re-targeted at the simulator (SHOPIFY.md §9). */
export const clientFor = (sim: RunningShopifySimulator, domain: string = SHOP, accessToken?: string): AdminApiClient => {
  const options = sim.adminClientOptions(domain)
  return createAdminApiClient({
    storeDomain: options.storeDomain,
    apiVersion: "2026-07",
    accessToken: accessToken ?? options.accessToken,
    customFetchApi: options.customFetchApi
  })
}

/** POSTs a GraphQL document directly (to see raw HTTP status and body). */
export const rawGraphQL = async (
  sim: RunningShopifySimulator,
  query: string,
  options: { variables?: unknown; token?: string; version?: string; host?: string } = {}
): Promise<{ status: number; body: any; headers: Headers }> => {
  const response = await fetch(`${sim.url}/admin/api/${options.version ?? "2026-07"}/graphql.json`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Shopify-Access-Token": options.token ?? TOKEN,
      "X-Forwarded-Host": options.host ?? SHOP
    },
    body: JSON.stringify({ query, ...(options.variables !== undefined ? { variables: options.variables } : {}) })
  })
  const text = await response.text()
  return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text, headers: response.headers }
}

import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"

/** A webhook receiver on 127.0.0.1:0 recording raw bodies; answers `statuses` in turn, then 200. */
export interface WebhookReceiver {
  readonly url: string
  readonly received: Array<{ readonly headers: IncomingHttpHeaders; readonly body: string; readonly status: number }>
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number): Promise<void>
  close(): Promise<void>
}

export const startWebhookReceiver = async (statuses: Array<number> = []): Promise<WebhookReceiver> => {
  const received: WebhookReceiver["received"] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const status = statuses.shift() ?? 200
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status })
      res.writeHead(status).end()
      for (const w of [...waiters]) if (received.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    waitFor: (count) => (received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

export const RUN_QUERY = `mutation Run($q: String!) {
  bulkOperationRunQuery(query: $q, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`

export const POLL = `query Poll($id: ID!) {
  bulkOperation(id: $id) { id status errorCode type objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt query }
}`

export const STAGED_UPLOADS_CREATE = `mutation Stage($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}`

export const RUN_MUTATION = `mutation RunMutation($mutation: String!, $path: String!, $clientIdentifier: String) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path, clientIdentifier: $clientIdentifier) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`

export interface StagedTarget {
  readonly url: string
  readonly resourceUrl: string | null
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly value: string }>
}

/** Calls stagedUploadsCreate for one BULK_MUTATION_VARIABLES file. */
export const createStagedTarget = async (client: AdminApiClient, filename = "bulk_op_vars"): Promise<StagedTarget> => {
  const r = await client.request(STAGED_UPLOADS_CREATE, {
    variables: { input: [{ resource: "BULK_MUTATION_VARIABLES", filename, mimeType: "text/jsonl", httpMethod: "POST" }] }
  })
  const payload = (r.data as any).stagedUploadsCreate
  if (payload.userErrors.length > 0) throw new Error(JSON.stringify(payload.userErrors))
  return payload.stagedTargets[0] as StagedTarget
}

/** Uploads `content` as Shopify documents it: every parameter, then `file` last. */
export const uploadToTarget = (target: StagedTarget, content: string, options: { fileFirst?: boolean; skip?: string } = {}): Promise<Response> => {
  const form = new FormData()
  const file = new Blob([content], { type: "text/jsonl" })
  if (options.fileFirst) form.append("file", file, "bulk_op_vars")
  for (const p of target.parameters) if (p.name !== options.skip) form.append(p.name, p.value)
  if (!options.fileFirst) form.append("file", file, "bulk_op_vars")
  return fetch(target.url, { method: "POST", body: form })
}

/** stagedUploadsCreate + upload; returns the stagedUploadPath (the `key`). */
export const stageJsonl = async (client: AdminApiClient, lines: ReadonlyArray<string>): Promise<string> => {
  const target = await createStagedTarget(client)
  const response = await uploadToTarget(target, `${lines.join("\n")}\n`)
  if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${await response.text()}`)
  return target.parameters.find((p) => p.name === "key")!.value
}
