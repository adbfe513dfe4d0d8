/**
 * A real browser for the admin app's tests: Debian's Chromium (`apt-get install chromium`, done
 * by `.ci/run`) driven by `playwright-core`, which downloads no browser of its own. A machine
 * without it fails the suite, naming what to install; nothing is skipped.
 */
import { existsSync } from "node:fs"
import { type Browser, chromium } from "playwright-core"

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

export const launchChromium = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH`)
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // root in CI has no sandbox; the rest keeps Chromium off the (closed) network at start
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
  })
}
