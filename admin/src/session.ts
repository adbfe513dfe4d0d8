/**
 * Where the app's session token comes from.
 *
 * - **In the Shopify admin** (App Bridge loaded, `window.shopify`): a fresh App Bridge session
 *   token before every call (`shopify.idToken()`; they live one minute).
 * - **Outside it** (the demo, `npm start`): the development session token `npm start` puts in the
 *   link's fragment (`/app#session=…`). It is kept in this tab's `sessionStorage` and taken out of
 *   the address bar at once, so it is neither bookmarked nor sent to a server by the browser.
 */
const STORAGE_KEY = "sumeru.session"

interface AppBridgeGlobal {
  readonly idToken: () => Promise<string>
}

export const appBridge = (): AppBridgeGlobal | undefined =>
  (window as unknown as { shopify?: AppBridgeGlobal }).shopify

/** The server says so when it runs the demo (`AdminUi.ts`): only then is a link's session taken. */
const developmentSessionsOn = () => document.querySelector('meta[name="sumeru-development-sessions"]')?.getAttribute("content") === "on"

/** Reads a `#session=` fragment into this tab's storage (once, at start); the fragment leaves the address bar either way. */
export const adoptDevelopmentSession = (): void => {
  const match = /(?:^#|&)session=([^&]+)/.exec(window.location.hash)
  if (match === null) return
  history.replaceState(history.state, "", window.location.pathname + window.location.search)
  if (!developmentSessionsOn()) return
  try {
    sessionStorage.setItem(STORAGE_KEY, decodeURIComponent(match[1]!))
  } catch {
    // a mangled link: no session, and the app says how to open it
  }
}

/** The token for the next call, or `null` when the app has none (not opened from the admin nor a demo link). */
export const sessionToken = async (): Promise<string | null> => {
  const bridge = appBridge()
  if (bridge !== undefined) return bridge.idToken()
  return sessionStorage.getItem(STORAGE_KEY)
}
