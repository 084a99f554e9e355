// Debian's chromium driven by playwright-core, for tests that need a real browser.
// CI (.ci/run) installs chromium and sets TESSERA_REQUIRE_BROWSER=1, so there a missing
// browser fails the run; on a developer machine without it the browser tests are skipped
// with a visible reason rather than silently passing.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const browserAvailable = existsSync(CHROMIUM_PATH);

if (!browserAvailable && process.env.TESSERA_REQUIRE_BROWSER === "1") {
  throw new Error(`chromium not found at ${CHROMIUM_PATH} (apt-get install chromium), and TESSERA_REQUIRE_BROWSER=1`);
}
if (!browserAvailable) {
  console.warn(`[browser tests skipped] chromium not found at ${CHROMIUM_PATH}; install it with apt-get install chromium`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // This machine's network is closed: background services would only produce refused connections.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
