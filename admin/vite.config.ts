/**
 * The admin app's build: React + Polaris into `admin/dist`, served by the ingress under `/app`
 * (`adapters/http/AdminUi.ts`). `npm run build:admin` runs it.
 */
import react from "@vitejs/plugin-react"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // one chunk per screen group keeps the first screen's script small
    chunkSizeWarningLimit: 1500
  },
  logLevel: "warn"
})
