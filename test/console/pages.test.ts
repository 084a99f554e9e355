// Static checks of the console's pages, no browser needed: the structure assistive technology
// relies on (language, title, one h1, a main landmark, a label for every field, live regions),
// and the one inline script (the import map) allowed by the hash in console/_headers.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { vendorConsoleLibraries } from "../../scripts/vendor-console.mjs";

const consoleDir = fileURLToPath(new URL("../../console/", import.meta.url));
const pages = readdirSync(consoleDir).filter((f) => f.endsWith(".html"));
const headers = readFileSync(join(consoleDir, "_headers"), "utf8");

const all = (html: string, re: RegExp) => [...html.matchAll(re)];

describe("console/vendor", () => {
  it("holds the pinned @simplewebauthn/browser, and vendoring again writes nothing", () => {
    const pinned = (JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { dependencies: Record<string, string> }).dependencies["@simplewebauthn/browser"];
    vendorConsoleLibraries();
    const again = vendorConsoleLibraries();
    expect(again).toMatchObject({ version: pinned, copied: false });
    expect(readFileSync(join(again.directory, "index.js"), "utf8")).toContain("startAuthentication");
    expect(readdirSync(again.directory, { recursive: true }).some((f) => String(f).endsWith(".d.ts"))).toBe(false);
  });
});

describe("console pages", () => {
  it("exist: login, register and the signed-in pages", () => {
    expect(pages.sort()).toEqual(["approvals.html", "audit.html", "index.html", "policies.html", "register.html", "share-holders.html", "transfers.html", "users.html", "wallets.html"]);
  });

  for (const page of pages) {
    describe(page, () => {
      const html = readFileSync(join(consoleDir, page), "utf8");

      it("has a language, a title, a skip link, one main landmark and one h1", () => {
        expect(html).toMatch(/<html lang="en">/);
        expect(html).toMatch(/<title>[^<]+ · Tessera console<\/title>/);
        expect(html).toContain('<a class="skip" href="#main">');
        expect(all(html, /<main id="main" tabindex="-1">/g)).toHaveLength(1);
        expect(all(html, /<h1[ >]/g)).toHaveLength(1);
        expect(html).toContain('<div id="status" role="status"></div>');
        expect(html).toContain('<div id="error" role="alert"></div>');
      });

      it("labels every field", () => {
        const labelled = new Set(all(html, /<label[^>]* for="([^"]+)"/g).map((m) => m[1]));
        const fields = all(html, /<(input|select|textarea)\b([^>]*)>/g).filter((m) => !/type="hidden"/.test(m[2]!));
        for (const f of fields) {
          const id = /\bid="([^"]+)"/.exec(f[2]!)?.[1];
          expect(id, `${page}: a ${f[1]} without an id`).toBeDefined();
          expect(labelled.has(id!), `${page}: #${id} has no <label for>`).toBe(true);
        }
      });

      it("runs only its own module, and its import map is the one the CSP allows", () => {
        const inline = all(html, /<script( type="[^"]+")?>([\s\S]*?)<\/script>/g);
        expect(inline.map((m) => m[1])).toEqual([' type="importmap"']);
        const hash = createHash("sha256").update(inline[0]![2]!).digest("base64");
        expect(headers).toContain(`'sha256-${hash}'`);
        const modules = all(html, /<script type="module" src="([^"]+)"><\/script>/g).map((m) => m[1]);
        expect(modules).toHaveLength(1);
        expect(modules[0]).toMatch(/^\.\/js\/pages\/[a-z-]+\.js$/);
        expect(readFileSync(join(consoleDir, modules[0]!), "utf8")).toMatch(/^\/\/ @ts-check/);
      });
    });
  }
});
