/**
 * The shell: Polaris's Frame with the screens' navigation (App Bridge's NavMenu when the app is
 * embedded in the Shopify admin, whose own sidebar then lists them), and the routes. Each screen
 * group is loaded when it is first opened, so the first screen does not wait for all of them.
 */
import { NavMenu } from "@shopify/app-bridge-react"
import { Frame, Navigation, Page, Text, TopBar } from "@shopify/polaris"
import { lazy, Suspense, useState } from "react"
import { Link, Route, Switch, useLocation } from "wouter"
import { ErrorBoundary } from "./components/ErrorBoundary.tsx"
import { LoadingCard } from "./components/QueryState.tsx"
import { NAV_SECTIONS } from "./nav.ts"
import { appBridge } from "./session.ts"
import { useCan, useMe } from "./permissions.ts"
import { useFocusableScrollRegions } from "./components/useFocusableScrollRegions.ts"

const Home = lazy(() => import("./pages/Home.tsx"))
const Jobs = lazy(() => import("./pages/Jobs.tsx"))
const JobDetail = lazy(() => import("./pages/JobDetail.tsx"))
const Templates = lazy(() => import("./pages/Templates.tsx"))
const Rules = lazy(() => import("./pages/Rules.tsx"))
const RuleEditor = lazy(() => import("./pages/RuleEditor.tsx"))
const Approvals = lazy(() => import("./pages/Approvals.tsx"))
const Executions = lazy(() => import("./pages/Executions.tsx"))
const ExecutionDetail = lazy(() => import("./pages/ExecutionDetail.tsx"))
const Audit = lazy(() => import("./pages/Audit.tsx"))
const Attribution = lazy(() => import("./pages/Attribution.tsx"))
const Seo = lazy(() => import("./pages/Seo.tsx"))
const Ads = lazy(() => import("./pages/Ads.tsx"))
const Cohorts = lazy(() => import("./pages/Cohorts.tsx"))
const Ltv = lazy(() => import("./pages/Ltv.tsx"))
const Webhooks = lazy(() => import("./pages/Webhooks.tsx"))
const AiUsage = lazy(() => import("./pages/AiUsage.tsx"))
const Settings = lazy(() => import("./pages/Settings.tsx"))

const selected = (location: string, path: string) => (path === "/" ? location === "/" : location === path || location.startsWith(`${path}/`))

const EmbeddedNav = ({ can }: { can: (permission: string) => boolean }) => (
  <NavMenu>
    <Link href="/" rel="home">Home</Link>
    {NAV_SECTIONS.flatMap((s) => s.items).filter((i) => i.path !== "/" && can(i.permission)).map((i) => <Link key={i.path} href={i.path}>{i.label}</Link>)}
  </NavMenu>
)

const NotFound = () => (
  <Page title="Page not found" backAction={{ content: "Home", url: "/" }}>
    <Text as="p">There is no such page in Sumeru. Pick one from the navigation.</Text>
  </Page>
)

export const App = () => {
  const [location] = useLocation()
  const [mobileNav, setMobileNav] = useState(false)
  useFocusableScrollRegions()
  const me = useMe()
  const can = useCan()
  const embedded = appBridge() !== undefined
  const navigation = (
    <Navigation location={location}>
      {NAV_SECTIONS.map((section) => ({ ...section, items: section.items.filter((item) => can(item.permission)) })).filter((s) => s.items.length > 0).map((section, i) => (
        <Navigation.Section
          key={section.title ?? i}
          {...(section.title === undefined ? {} : { title: section.title })}
          items={section.items.map((item) => ({
            url: item.path,
            label: item.label,
            icon: item.icon,
            selected: selected(location, item.path),
            onClick: () => setMobileNav(false)
          }))}
        />
      ))}
    </Navigation>
  )
  const topBar = (
    <TopBar
      showNavigationToggle
      onNavigationToggle={() => setMobileNav((v) => !v)}
      userMenu={
        <TopBar.UserMenu
          name={me.data?.principal.subject ?? "…"}
          detail={me.data === undefined ? "" : `${me.data.shop} · ${me.data.principal.role}`}
          initials={(me.data?.principal.subject ?? "S").slice(0, 1).toUpperCase()}
          actions={[]}
          open={false}
          onToggle={() => undefined}
        />
      }
    />
  )
  return (
    <Frame
      {...(embedded ? {} : { navigation, topBar, showMobileNavigation: mobileNav, onNavigationDismiss: () => setMobileNav(false) })}
      logo={{ topBarSource: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='120' height='32'%3E%3Ctext x='0' y='22' font-family='sans-serif' font-size='20' font-weight='700' fill='%23ffffff'%3ESumeru%3C/text%3E%3C/svg%3E", accessibilityLabel: "Sumeru", url: "/", width: 110 }}
      skipToContentTarget={undefined}
    >
      {embedded ? <EmbeddedNav can={can} /> : null}
      <ErrorBoundary key={location}>
      <Suspense fallback={<Page><LoadingCard /></Page>}>
        <Switch>
          <Route path="/"><Home /></Route>
          <Route path="/jobs"><Jobs /></Route>
          <Route path="/jobs/:id">{(p) => <JobDetail id={p.id} />}</Route>
          <Route path="/templates"><Templates /></Route>
          <Route path="/rules"><Rules /></Route>
          <Route path="/rules/new"><RuleEditor id={null} /></Route>
          <Route path="/rules/:id">{(p) => <RuleEditor id={p.id} />}</Route>
          <Route path="/approvals"><Approvals /></Route>
          <Route path="/executions"><Executions /></Route>
          <Route path="/executions/:id">{(p) => <ExecutionDetail id={p.id} />}</Route>
          <Route path="/audit"><Audit /></Route>
          <Route path="/attribution"><Attribution /></Route>
          <Route path="/seo"><Seo /></Route>
          <Route path="/ads"><Ads /></Route>
          <Route path="/cohorts"><Cohorts /></Route>
          <Route path="/ltv"><Ltv /></Route>
          <Route path="/webhooks"><Webhooks /></Route>
          <Route path="/ai"><AiUsage /></Route>
          <Route path="/settings"><Settings /></Route>
          <Route><NotFound /></Route>
        </Switch>
      </Suspense>
      </ErrorBoundary>
    </Frame>
  )
}
