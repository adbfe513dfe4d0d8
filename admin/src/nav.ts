/** The app's screens as the navigation lists them (the Frame's sidebar, and App Bridge's NavMenu in the Shopify admin). */
import {
  AppsIcon, AutomationIcon, ChartCohortIcon, ChartLineIcon, ChartVerticalIcon, CheckCircleIcon, ClipboardIcon, CodeIcon,
  HomeIcon, MagicIcon, MegaphoneIcon, PersonIcon, PlayIcon, ProductIcon, SearchIcon, SettingsIcon
} from "@shopify/polaris-icons"

export interface NavEntry {
  readonly path: string
  readonly label: string
  readonly icon: typeof HomeIcon
}

export const NAV_SECTIONS: ReadonlyArray<{ readonly title?: string; readonly items: ReadonlyArray<NavEntry> }> = [
  { items: [{ path: "/", label: "Home", icon: HomeIcon }] },
  {
    title: "Bulk jobs",
    items: [
      { path: "/jobs", label: "Jobs", icon: ProductIcon },
      { path: "/templates", label: "Flow templates", icon: AppsIcon }
    ]
  },
  {
    title: "Automation",
    items: [
      { path: "/rules", label: "Rules", icon: AutomationIcon },
      { path: "/approvals", label: "Approvals", icon: CheckCircleIcon },
      { path: "/executions", label: "Executions", icon: PlayIcon },
      { path: "/audit", label: "Audit log", icon: ClipboardIcon }
    ]
  },
  {
    title: "Insights",
    items: [
      { path: "/attribution", label: "Attribution", icon: ChartVerticalIcon },
      { path: "/seo", label: "SEO", icon: SearchIcon },
      { path: "/ads", label: "Ads", icon: MegaphoneIcon },
      { path: "/cohorts", label: "Cohorts", icon: ChartCohortIcon },
      { path: "/ltv", label: "Customer value", icon: ChartLineIcon }
    ]
  },
  {
    title: "Connections",
    items: [
      { path: "/webhooks", label: "Outbound webhooks", icon: CodeIcon },
      { path: "/ai", label: "AI usage", icon: MagicIcon },
      { path: "/settings", label: "Settings", icon: SettingsIcon }
    ]
  }
]

export const MEMBERS_ICON = PersonIcon
