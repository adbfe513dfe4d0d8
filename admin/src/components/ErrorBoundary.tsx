/**
 * A screen that fails to draw (a defect) shows a plain message and a way on, never a stack trace;
 * the error goes to the browser's console for whoever debugs it.
 */
import { Banner, Page } from "@shopify/polaris"
import { Component, type ErrorInfo, type ReactNode } from "react"

export class ErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false }

  static getDerivedStateFromError() {
    return { failed: true }
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("a screen failed to draw", error, info.componentStack)
  }

  override render() {
    if (!this.state.failed) return this.props.children
    return (
      <Page title="Something went wrong">
        <Banner tone="critical" title="This screen could not be shown" action={{ content: "Reload", onAction: () => window.location.reload() }}>
          <p>It is a fault on our side, not in your data. Reload the page, or open another screen from the navigation.</p>
        </Banner>
      </Page>
    )
  }
}
