/**
 * Import rules, checked by `npm run lint:deps` (and `.ci/run`):
 * - `domain/` is pure: it imports only itself and `effect`;
 * - `src/` reaches concrete adapters only from the composition roots (the server, the CLI,
 *   the core layer, the shop-log selection); everything else depends on the contracts in `src/`;
 * - the admin app (`admin/`, a browser bundle) and the server share no module: the app knows the
 *   server only through the admin API's JSON, and the server only serves the app's built files;
 * - no cycles.
 * Type-only imports count: a type from an adapter couples as surely as a value.
 */
/** Modules that wire concrete adapters together. */
const compositionRoots = "^src/(server/|cli/|cli\\.ts$|CoreLayer\\.ts$|shoplog/ShopLogLayer\\.ts$)"

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one: neither can be understood, tested or loaded alone.",
      from: {},
      to: { circular: true }
    },
    {
      name: "domain-is-pure",
      severity: "error",
      comment: "domain/ holds pure decisions and schemas: it imports only itself and effect.",
      from: { path: "^domain/" },
      to: { pathNot: ["^domain/", "^node_modules/effect/"] }
    },
    {
      name: "admin-app-is-apart",
      severity: "error",
      comment: "The admin app runs in a browser: it reaches the server over HTTP, never by importing its modules.",
      from: { path: "^admin/" },
      to: { path: "^(domain|src|adapters|projections|migrations)/" }
    },
    {
      name: "server-does-not-import-the-app",
      severity: "error",
      comment: "The server serves the app's build (admin/dist), it does not import the app's sources.",
      from: { path: "^(domain|src|adapters|projections|migrations)/" },
      to: { path: "^admin/" }
    },
    {
      name: "src-uses-contracts",
      severity: "error",
      comment: "Outside the composition roots, src/ depends on contracts (src/), never on a concrete adapter.",
      from: { path: "^src/", pathNot: compositionRoots },
      to: { path: "^adapters/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|\\.cache|dist|test/fixtures)" },
    tsPreCompilationDeps: true,
    // swc parses the sources: dependency-cruiser cannot use TypeScript 7.0's compiler API (it says
    // so on every run: "missing-tsc-transpiler"; harmless, type-only imports are still seen)
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".tsx", ".js", ".json"] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
