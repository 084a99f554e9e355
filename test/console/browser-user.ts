// One person at the console: their own browser context (cookies, storage), one tab, and a
// WebAuthn virtual authenticator attached to that tab through the Chrome DevTools Protocol — a
// platform authenticator with user verification, as a laptop's fingerprint reader is. The
// authenticator holds real P-256 keys and signs real assertions; only the touch is simulated.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";

/** axe-core, evaluated through the DevTools Protocol (page CSP does not apply to that). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

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

  /** WCAG 2.1 A/AA violations axe-core finds on the page as it is now, one line each. */
  async accessibilityViolations(): Promise<string[]> {
    if (!(await this.page.evaluate(() => "axe" in window))) await this.page.evaluate(AXE_SOURCE);
    return this.page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document, o: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const { violations } = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
      return violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
    });
  }

  /** Saves the page as test/artifacts/console/<file>.png, after checking it with axe-core. */
  async screenshot(file: string): Promise<string> {
    const violations = await this.accessibilityViolations();
    if (violations.length) throw new Error(`${this.name}: accessibility violations on ${file}:\n${violations.join("\n")}`);
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
