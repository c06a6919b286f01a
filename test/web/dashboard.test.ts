import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { readEntries } from "../../src/audit/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { BAD_TOKEN, body, startFixture, type ServerFixture } from "../server/helpers.ts";
import { recordingKillAll } from "../server/samples.ts";
import { launchBrowser, logIn, openPage, screenshot, scriptVisibleStorage, type TestPage } from "./browser.ts";

/**
 * The admin's path through the dashboard, in order, in one page: log in, run a command the
 * strict policy asks about, approve it, watch its output, verify the log, stop everything.
 * The lockdown's kill is recorded instead of performed (other suites' containers share the engine).
 */
describe("web dashboard as admin (real Chromium, strict template, real Docker)", () => {
  const kills: number[] = [];
  let f: ServerFixture;
  let browser: Browser;
  let t: TestPage;

  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ template: "strict", approvalsTimeout: "60s", app: recordingKillAll(kills) });
    browser = await launchBrowser();
    t = await openPage(browser, f.url);
  });
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
  });

  test("web: a bad token is refused; the form is cleared and the dashboard stays hidden", async () => {
    await t.page.fill("#login-token", BAD_TOKEN);
    await t.page.click("#login-submit");
    await t.page.locator("#login-error", { hasText: "Login refused: invalid or revoked token" }).waitFor();
    expect(await t.page.locator("#app").isHidden()).toBe(true);
    expect(await t.page.inputValue("#login-token")).toBe("");
    await screenshot(t.page, "01-login-refused");
  });

  test("web: an admin logs in with a token; only the HttpOnly session cookie remains, nothing script-readable", async () => {
    await logIn(t.page, f.tokens.admin);
    expect(await scriptVisibleStorage(t.page)).toEqual({ local: 0, session: 0, cookie: "", databases: 0 });
    const cookies = await t.context.cookies();
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }))).toEqual([{ name: "aegisclaw_session", httpOnly: true, sameSite: "Strict" }]);
    expect(await t.page.content()).not.toContain(f.tokens.admin);
    expect(await t.page.textContent("#who")).toBe("ada · admin");
    expect(await t.page.textContent("[data-fact='policy mode']")).toBe("strict");
    expect(await t.page.textContent("[data-fact='openclaw adapter']")).toBe("not configured");
    expect(await t.page.getAttribute("#envelope-indicator", "data-state")).toBe("hardened");
    await t.page.locator("#posture-checks tr").first().waitFor();
    expect(await t.page.textContent("#posture-grade")).toMatch(/^[A-F]$/);
    expect(await t.page.isEnabled("#emergency-stop")).toBe(true);
    await screenshot(t.page, "02-overview");
  });

  test("web: a run the policy asks about is approved with a click (bound to the shown hash); its output streams live, redacted", async () => {
    const { page } = t;
    await page.fill("#run-argv", "sh -c 'echo AKIAIOSFODNN7EXAMPLE; echo visible-output; sleep 5; echo done-later'");
    await page.fill("#run-scopes", "shell.exec");
    expect(await page.textContent("#run-preview")).toBe(`argv: ${JSON.stringify(["sh", "-c", "echo AKIAIOSFODNN7EXAMPLE; echo visible-output; sleep 5; echo done-later"])}`);
    await page.click("#run-submit");
    const card = page.locator("[data-approval-id]");
    await card.waitFor();
    const pending = ((await body(await f.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; requestHash: string }>)[0];
    expect(await card.getAttribute("data-request-hash")).toBe(pending?.requestHash ?? "missing");
    expect(await card.locator(".hash").textContent()).toBe(`request ${pending?.requestHash}`);
    await screenshot(page, "03-approval-pending");

    await card.locator("[data-action=approve]").click();
    await page.locator("#terminal", { hasText: "visible-output" }).waitFor({ timeout: 30_000 });
    const live = (await page.textContent("#terminal")) ?? "";
    // Seen while the run was still sleeping: the output arrived live, not at the end.
    expect(live).not.toContain("done-later");
    expect(live).toContain("[REDACTED:aws-access-key]");
    expect(live).not.toContain("AKIAIOSFODNN7EXAMPLE");
    await screenshot(page, "04-live-output");

    await page.locator("#terminal", { hasText: "[finished: exit 0" }).waitFor({ timeout: 30_000 });
    expect(await page.textContent("#terminal")).toContain("done-later");
    // The list follows the run.finished event (the terminal's own stream may end first).
    await page.locator(`#runs-list tr[data-run-id='${pending?.id}'][data-status=finished]`).waitFor();
    const approval = [...readEntries(f.app.layout.audit, { runId: pending?.id ?? "", type: "approval" })][0];
    expect(approval?.approval).toMatchObject({ outcome: "approved", by: "ada", via: "web" });
    expect(approval?.actor).toEqual({ name: "ada", source: "web" });
    expect(approval?.requestHash).toBe(pending?.requestHash ?? "missing");
  }, 90_000);

  test("web: Verify Integrity reports the audit log intact", async () => {
    await t.page.click("#verify");
    await t.page.locator("#verify-result[data-ok]").waitFor();
    expect(await t.page.getAttribute("#verify-result", "data-ok")).toBe("true");
    expect(await t.page.textContent("#verify-result")).toMatch(/Intact: \d+ entries, \d+ signed checkpoints/);
    await screenshot(t.page, "05-verify-integrity");
  });

  test("web: hovering an audit entry explains the decision", async () => {
    const entry = t.page.locator("#audit-list li[data-type=decision]").first();
    await entry.hover();
    const tip = entry.locator(".tip");
    await tip.filter({ hasText: "decision (entry" }).waitFor();
    expect(await tip.textContent()).toContain("ASK");
    expect(await tip.textContent()).toContain("strict.approval-required");
    await screenshot(t.page, "06-audit-explanation");
  });

  test("web: EMERGENCY STOP engages lockdown in one click; the page shows LOCKDOWN; unlock asks for confirmation", async () => {
    const { page } = t;
    await page.click("#emergency-stop");
    await page.locator("#lockdown-banner").waitFor({ state: "visible" });
    expect(await page.textContent("#lockdown-banner")).toContain("LOCKDOWN");
    expect(f.app.lockdown.read().active).toBe(true);
    expect(kills.length).toBe(1);
    await page.locator("#envelope-indicator[data-state=locked]").waitFor();
    expect(await page.isDisabled("#emergency-stop")).toBe(true);
    await page.locator("#audit-list li[data-type=lockdown]").waitFor();
    await screenshot(page, "07-lockdown");

    await page.fill("#run-argv", "echo refused");
    await page.click("#run-submit");
    await page.locator("#runs-msg", { hasText: "Refused" }).waitFor();
    expect(await page.textContent("#runs-msg")).toContain("lockdown");

    await page.click("#unlock");
    await page.locator("#lockdown-banner").waitFor({ state: "hidden" });
    expect(t.dialogs).toEqual([{ type: "confirm", message: expect.stringContaining("Lift lockdown?") }]);
    expect(f.app.lockdown.read().active).toBe(false);
  });

  test("web: the page requested nothing outside its own origin and raised no script errors", () => {
    const origin = new URL(f.url);
    const foreign = t.requests.filter((url) => new URL(url).host !== origin.host);
    expect(foreign).toEqual([]);
    expect(t.requests.some((url) => url.startsWith(`ws://${origin.host}/api/v1/events`))).toBe(true);
    // The refused login and the refused run are logged by Chromium as failed loads; nothing else may fail.
    expect(t.errors.filter((line) => !/Failed to load resource: the server responded with a status of (401|423)/.test(line))).toEqual([]);
  });
});
