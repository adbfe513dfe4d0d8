import "@shopify/polaris/build/esm/styles.css"
import "@shopify/polaris-viz/build/esm/styles.css"
import "./app.css"
import { QueryClientProvider } from "@tanstack/react-query"
import { AppProvider } from "@shopify/polaris"
import { PolarisVizProvider } from "@shopify/polaris-viz"
import en from "@shopify/polaris/locales/en.json"
import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import { Router } from "wouter"
import { queryClient } from "./api.ts"
import { App } from "./App.tsx"
import { RouterLink } from "./components/RouterLink.tsx"
import { adoptDevelopmentSession } from "./session.ts"

adoptDevelopmentSession()

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Router base="/app">
      <AppProvider i18n={en} linkComponent={RouterLink}>
        <PolarisVizProvider>
          <QueryClientProvider client={queryClient}>
            <App />
          </QueryClientProvider>
        </PolarisVizProvider>
      </AppProvider>
    </Router>
  </StrictMode>
)
