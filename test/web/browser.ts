import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Dialog, type Page } from "playwright-core";

/** Debian's Chromium (scripts/setup.sh installs it); playwright-core never downloads a browser here. */
export const CHROMIUM = "/usr/bin/chromium";

/** Screenshots of every browser test, kept as CI artefacts (gitignored). */
export const ARTIFACTS = join(import.meta.dir, "..", "..", "test-artifacts", "web");

/**
 * Starts headless Chromium for the tests. `--no-sandbox` is for this TEST browser only: CI
 * runs as root in a container, where Chromium's own sandbox cannot start; the browser only
 * ever opens the test server on loopback. Nothing in AegisClaw itself runs Chromium.
 * Networking extras are off so the browser itself makes no request of its own (the tests
 * record every request the page makes).
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** A page of its own (own cookies and storage) with everything it did recorded. */
export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested (documents, scripts, fetches, EventSource, WebSocket). */
  requests: string[];
  /** The same requests as `METHOD path` (WebSockets as `WS path`). */
  calls: string[];
  /** Every dialog (alert, confirm…) the page opened; confirms are accepted. */
  dialogs: Array<{ type: string; message: string }>;
  /** Uncaught page errors and console errors. */
  errors: string[];
}

/** Opens `url` in a fresh context with a viewport tall enough for whole-dashboard screenshots. */
export async function openPage(browser: Browser, url: string): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 2200 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const calls: string[] = [];
  const dialogs: TestPage["dialogs"] = [];
  const errors: string[] = [];
  page.on("request", (request) => {
    requests.push(request.url());
    calls.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });
  page.on("websocket", (socket) => {
    requests.push(socket.url());
    calls.push(`WS ${new URL(socket.url()).pathname}`);
  });
  page.on("dialog", (dialog: Dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    void (dialog.type() === "confirm" ? dialog.accept() : dialog.dismiss());
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${url}/`);
  return { context, page, requests, calls, dialogs, errors };
}

/** Logs in through the form and waits for the dashboard's first data. */
export async function logIn(page: Page, token: string): Promise<void> {
  await page.fill("#login-token", token);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
  await page.locator("#live-state[data-state=live]").waitFor();
  await page.locator("#overview-list dd").first().waitFor();
}

/** Saves a screenshot of the viewport as test-artifacts/web/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Storage a page script could read: must stay empty (the session cookie is HttpOnly, the CSRF token lives in memory). */
export async function scriptVisibleStorage(page: Page): Promise<{ local: number; session: number; cookie: string; databases: number }> {
  // A string, not a function: the test project is type-checked without the DOM library.
  return (await page.evaluate(`(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
    databases: (await indexedDB.databases()).length,
  }))()`)) as { local: number; session: number; cookie: string; databases: number };
}
