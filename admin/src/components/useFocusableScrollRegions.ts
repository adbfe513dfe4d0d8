/**
 * Polaris's tables scroll sideways on narrow screens inside a container a keyboard cannot reach
 * (axe: scrollable-region-focusable). This makes each such container focusable, named by its
 * table, as soon as it appears.
 */
import { useEffect } from "react"

const SCROLLERS = ".Polaris-IndexTable-ScrollContainer, .Polaris-DataTable__ScrollContainer"

const mend = (root: ParentNode) => {
  for (const el of root.querySelectorAll<HTMLElement>(SCROLLERS)) {
    if (el.hasAttribute("tabindex")) continue
    el.tabIndex = 0
    el.setAttribute("role", "region")
    el.setAttribute("aria-label", "Table (scrolls sideways)")
  }
}

export const useFocusableScrollRegions = () =>
  useEffect(() => {
    mend(document)
    const observer = new MutationObserver(() => mend(document))
    observer.observe(document.body, { childList: true, subtree: true })
    return () => observer.disconnect()
  }, [])
