// One person at the console: their own browser context (cookies, storage), one tab, and a
// WebAuthn virtual authenticator attached to that tab through the Chrome DevTools Protocol — a
// platform authenticator with user verification, as a laptop's fingerprint reader is. The
// authenticator holds real P-256 keys and signs real assertions; only the touch is simulated.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "../artifacts/console");

export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  signCount: number;
}

export class ConsoleUser {
  /** Uncaught page errors and console errors: a working console produces none. */
  readonly problems: string[] = [];

  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly cdp: CDPSession,
    private readonly authenticatorId: string,
  ) {}

  static async open(browser: Browser, name: string, origin: string): Promise<ConsoleUser> {
    const context = await browser.newContext({ baseURL: origin, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const user = new ConsoleUser(name, context, page, cdp, authenticatorId);
    page.on("pageerror", (err) => user.problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") user.problems.push(`console error: ${msg.text()}`);
    });
    return user;
  }

  /** The passkeys this user's authenticator holds, with their signature counters. */
  async credentials(): Promise<VirtualCredential[]> {
    const { credentials } = (await this.cdp.send("WebAuthn.getCredentials", { authenticatorId: this.authenticatorId })) as { credentials: VirtualCredential[] };
    return credentials;
  }

  /** The sum of the counters: it grows by one for every passkey signature. */
  async signatures(): Promise<number> {
    return (await this.credentials()).reduce((n, c) => n + c.signCount, 0);
  }

  async screenshot(file: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${file}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /**
   * The text of the page's status line (role=status) once it matches; fails as soon as the page
   * shows an error (role=alert) instead, with that error.
   */
  async statusSays(pattern: RegExp, timeout = 30_000): Promise<string> {
    const read = () => this.page.evaluate(() => ({ status: document.getElementById("status")?.textContent ?? "", error: document.getElementById("error")?.textContent ?? "" }));
    await this.page
      .waitForFunction(
        ([source, flags]) => new RegExp(source!, flags).test(document.getElementById("status")?.textContent ?? "") || (document.getElementById("error")?.textContent ?? "") !== "",
        [pattern.source, pattern.flags],
        { timeout },
      )
      .catch(() => undefined);
    const { status, error } = await read();
    if (!pattern.test(status)) throw new Error(`${this.name}: the page did not say ${pattern}; status: "${status}", error: "${error}"`);
    return status;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
