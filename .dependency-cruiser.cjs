/**
 * Import rules, checked by `npm run lint:deps` (and `.ci/run`):
 * - `domain/` is pure: it imports only itself and `effect`;
 * - `src/` reaches concrete adapters only from the composition roots (the server, the CLI,
 *   the core layer, the shop-log selection); everything else depends on the contracts in `src/`;
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
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js", ".json"] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
