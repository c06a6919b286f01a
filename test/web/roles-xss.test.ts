import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { requireDocker } from "../helpers/docker.ts";
import { body, eventually, startFixture, type ServerFixture } from "../server/helpers.ts";
import { recordingKillAll } from "../server/samples.ts";
import { launchBrowser, logIn, openPage, screenshot } from "./browser.ts";

const MARKUP = "<img src=x onerror=alert(1)>";

describe("web dashboard: roles and hostile text (real Chromium, strict template, real Docker)", () => {
  const kills: number[] = [];
  let f: ServerFixture;
  let browser: Browser;

  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ template: "strict", approvalsTimeout: "60s", app: recordingKillAll(kills) });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
  });

  /** A run submitted over the API by an agent (operator token): the policy asks, so it waits. */
  // The agent has a token of its own (here the admin one): a token never approves what it asked for.
  const agentRun = async (argv: string[]) => {
    const created = await f.call("/api/v1/runs", { as: "admin", method: "POST", json: { argv, scopes: ["shell.exec"] } });
    expect(created.status).toBe(202);
    return (await body(created)) as { runId: string; requestHash: string };
  };

  test("web: a viewer sees EMERGENCY STOP disabled with the reason, cannot run or approve, and a forced stop is refused by the server (403)", async () => {
    const t = await openPage(browser, f.url);
    await logIn(t.page, f.tokens.viewer);
    const { page } = t;
    expect(await page.isDisabled("#emergency-stop")).toBe(true);
    expect(await page.textContent("#stop-reason")).toBe("Emergency stop needs the admin role; you are logged in as vera (viewer)");
    expect(await page.isDisabled("#run-submit")).toBe(true);
    const run = await agentRun(["echo", "for the viewer"]);
    const card = page.locator(`[data-approval-id='${run.runId}']`);
    await card.waitFor();
    expect(await card.locator("[data-action=approve]").isDisabled()).toBe(true);
    await page.locator(`#runs-list tr[data-run-id='${run.runId}']`).click();
    await page.locator("#terminal", { hasText: "needs the operator role" }).waitFor();
    await screenshot(page, "08-viewer");

    // Forced: re-enable the button in the page and press it. The server decides, not the page.
    await page.locator("#emergency-stop").evaluate((button) => button.removeAttribute("disabled"));
    await page.click("#emergency-stop");
    await page.locator("#global-msg", { hasText: "Emergency stop failed" }).waitFor();
    expect(await page.textContent("#global-msg")).toContain("needs the admin role");
    expect(f.app.lockdown.read().active).toBe(false);
    expect(kills).toEqual([]);
    expect(await page.locator("#lockdown-banner").isHidden()).toBe(true);

    expect((await f.call(`/api/v1/approvals/${run.runId}/deny`, { as: "operator", method: "POST", json: { requestHash: run.requestHash } })).status).toBe(200);
    await t.context.close();
  });

  test("web: markup in an agent's argv and output is shown as text and never runs (no dialog, no element, no request)", async () => {
    const t = await openPage(browser, f.url);
    await logIn(t.page, f.tokens.operator);
    const { page } = t;
    const run = await agentRun(["sh", "-c", `echo '${MARKUP}'; echo '<script>alert(2)</script><b id=injected>bold</b>'`, MARKUP]);
    const card = page.locator(`[data-approval-id='${run.runId}']`);
    await card.waitFor();
    expect(await card.locator(".argv").textContent()).toContain(MARKUP);
    await card.locator("[data-action=approve]").click();
    await page.locator(`#runs-list tr[data-run-id='${run.runId}']`).click();
    await page.locator("#terminal", { hasText: "[finished: exit 0" }).waitFor({ timeout: 30_000 });
    const terminal = (await page.textContent("#terminal")) ?? "";
    expect(terminal).toContain(`${MARKUP}\n<script>alert(2)</script><b id=injected>bold</b>`);
    expect(await page.locator(`#runs-list tr[data-run-id='${run.runId}'] .run-argv`).textContent()).toContain(MARKUP);

    const entry = page.locator(`#audit-list li[data-type=decision]`).first();
    await eventually(async () => ((await entry.textContent()) ?? "").includes(MARKUP) || undefined, 10_000, "the audit entry");
    await entry.hover();
    await entry.locator(".tip", { hasText: "request:" }).waitFor();
    expect(await entry.locator(".tip").textContent()).toContain(MARKUP);
    await screenshot(page, "09-hostile-markup-as-text");

    expect(t.dialogs).toEqual([]);
    expect(await page.locator("img[src=x]").count()).toBe(0);
    expect(await page.locator("#injected").count()).toBe(0);
    expect(await page.locator("#app script, #app b").count()).toBe(0);
    expect(t.requests.filter((url) => new URL(url).pathname === "/x")).toEqual([]);
    expect(t.errors.filter((line) => !line.includes("Failed to load resource"))).toEqual([]);
    await t.context.close();
  }, 60_000);
});
