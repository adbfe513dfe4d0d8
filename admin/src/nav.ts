/** The app's screens as the navigation lists them (the Frame's sidebar, and App Bridge's NavMenu in the Shopify admin). */
import {
  AppsIcon, AutomationIcon, ChartCohortIcon, ChartLineIcon, ChartVerticalIcon, CheckCircleIcon, ClipboardIcon, CodeIcon,
  HomeIcon, MagicIcon, MegaphoneIcon, PlayIcon, ProductIcon, SearchIcon, SettingsIcon
} from "@shopify/polaris-icons"

export interface NavEntry {
  readonly path: string
  readonly label: string
  readonly icon: typeof HomeIcon
  /** What the screen reads: the entry is shown to roles that hold it. */
  readonly permission: string
}

export const NAV_SECTIONS: ReadonlyArray<{ readonly title?: string; readonly items: ReadonlyArray<NavEntry> }> = [
  { items: [{ path: "/", label: "Home", icon: HomeIcon, permission: "shop:read" }] },
  {
    title: "Bulk jobs",
    items: [
      { path: "/jobs", label: "Jobs", icon: ProductIcon, permission: "jobs:read" },
      { path: "/templates", label: "Flow templates", icon: AppsIcon, permission: "shop:read" }
    ]
  },
  {
    title: "Automation",
    items: [
      { path: "/rules", label: "Rules", icon: AutomationIcon, permission: "automation:read" },
      { path: "/approvals", label: "Approvals", icon: CheckCircleIcon, permission: "automation:read" },
      { path: "/executions", label: "Executions", icon: PlayIcon, permission: "automation:read" },
      { path: "/audit", label: "Audit log", icon: ClipboardIcon, permission: "audit:read" }
    ]
  },
  {
    title: "Insights",
    items: [
      { path: "/attribution", label: "Attribution", icon: ChartVerticalIcon, permission: "insights:read" },
      { path: "/seo", label: "SEO", icon: SearchIcon, permission: "insights:read" },
      { path: "/ads", label: "Ads", icon: MegaphoneIcon, permission: "insights:read" },
      { path: "/cohorts", label: "Cohorts", icon: ChartCohortIcon, permission: "insights:read" },
      { path: "/ltv", label: "Customer value", icon: ChartLineIcon, permission: "insights:read" }
    ]
  },
  {
    title: "Connections",
    items: [
      { path: "/webhooks", label: "Outbound webhooks", icon: CodeIcon, permission: "webhooks:read" },
      { path: "/ai", label: "AI usage", icon: MagicIcon, permission: "ai:read" },
      { path: "/settings", label: "Settings", icon: SettingsIcon, permission: "shop:read" }
    ]
  }
]
