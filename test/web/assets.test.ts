import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { API_CSP, PAGE_CSP } from "../../src/server/http.ts";
import { WEB_PATHS } from "../../src/server/web.ts";
import { startFixture, type ServerFixture } from "../server/helpers.ts";

const UI = join(import.meta.dir, "..", "..", "ui", "web");

/** Every browser source file, recursively. */
function sources(dir = join(UI, "src")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? sources(join(dir, entry.name)) : [join(dir, entry.name)]));
}

describe("web assets (served from the server's embedded copy)", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(() => f?.stop());

  test("web assets: each file has its content type, the page's strict CSP, no-store and the shared security headers", async () => {
    const types: Record<string, string> = { "/": "text/html; charset=utf-8", "/app.js": "text/javascript; charset=utf-8", "/app.css": "text/css; charset=utf-8", "/favicon.svg": "image/svg+xml" };
    expect([...WEB_PATHS].sort()).toEqual(Object.keys(types).sort());
    for (const path of WEB_PATHS) {
      const response = await fetch(`${f.url}${path}`);
      const text = await response.text();
      expect(response.status, path).toBe(200);
      expect(text.length, path).toBeGreaterThan(100);
      expect(response.headers.get("content-type"), path).toBe(types[path] ?? "missing");
      expect(response.headers.get("content-security-policy"), path).toBe(PAGE_CSP);
      expect(response.headers.get("cache-control"), path).toBe("no-store");
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("x-frame-options"), path).toBe("DENY");
      expect(response.headers.has("access-control-allow-origin"), path).toBe(false);
    }
    // The API keeps its own, stricter policy.
    expect((await fetch(`${f.url}/api/v1/health`)).headers.get("content-security-policy")).toBe(API_CSP);
  });

  test("web assets: the page CSP allows only this origin and no inline or eval'd code", () => {
    const directives = Object.fromEntries(PAGE_CSP.split(";").map((d) => d.trim().split(/\s+/)).map(([name = "", ...values]) => [name, values]));
    expect(directives["default-src"]).toEqual(["'none'"]);
    for (const name of ["script-src", "style-src", "img-src", "connect-src"]) expect(directives[name], name).toEqual(["'self'"]);
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    expect(directives["form-action"]).toEqual(["'none'"]);
    expect(directives["base-uri"]).toEqual(["'none'"]);
    expect(PAGE_CSP).not.toMatch(/unsafe|\*|https?:|data:|blob:/);
  });

  test("web assets: HEAD answers without a body, other methods are 405, other paths stay the API's", async () => {
    const head = await fetch(`${f.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(`${f.url}/app.js`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const missing = await fetch(`${f.url}/index.html`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-security-policy")).toBe(API_CSP);
    expect((await fetch(`${f.url}/api/v1/status`)).status).toBe(401);
  });

  test("web assets: the page has no inline script, style or handler, and references only its own files", async () => {
    const html = await (await fetch(`${f.url}/`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const references = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? "");
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect(WEB_PATHS, reference).toContain(reference);
    expect(html).not.toMatch(/https?:\/\//);
  });

  test("web assets: the browser code never turns text into markup and keeps nothing in web storage", () => {
    const forbidden = /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|localStorage|sessionStorage|indexedDB|document\.cookie/;
    for (const file of sources()) {
      // Comments may name what the code avoids; the code may not use it.
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      expect(code, file).not.toMatch(forbidden);
    }
  });
});
