import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { requireDocker } from "../helpers/docker.ts";
import { startFixture, type ServerFixture } from "../server/helpers.ts";
import { recordingKillAll } from "../server/samples.ts";
import { launchBrowser, logIn, openPage, screenshot, scriptVisibleStorage } from "./browser.ts";

describe("web dashboard sessions (real Chromium)", () => {
  const kills: number[] = [];
  let f: ServerFixture;
  let browser: Browser;

  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ app: recordingKillAll(kills) });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
  });

  test("web: revoking the token ends the browser session; logging in again does not inherit the old session's handlers", async () => {
    const { record, token } = await f.store.create("admin", "short-lived-admin");
    const t = await openPage(browser, f.url);
    await logIn(t.page, token);
    await f.store.revoke(record.id);
    await t.page.click("#posture-refresh");
    await t.page.locator("#login").waitFor({ state: "visible" });
    expect(await t.page.textContent("#login-error")).toContain("session ended");
    expect(await t.page.locator("#app").isHidden()).toBe(true);
    await screenshot(t.page, "10-session-ended");

    await logIn(t.page, f.tokens.admin);
    expect(await t.page.textContent("#who")).toBe("ada · admin");
    await t.page.click("#emergency-stop");
    await t.page.locator("#lockdown-banner").waitFor({ state: "visible" });
    // One click, one request: the first login's listeners died with its session.
    expect(t.calls.filter((call) => call === "POST /api/v1/lockdown")).toEqual(["POST /api/v1/lockdown"]);
    expect(kills.length).toBe(1);
    await t.page.click("#unlock");
    await t.page.locator("#lockdown-banner").waitFor({ state: "hidden" });
    expect(f.app.lockdown.read().active).toBe(false);
    await t.context.close();
  });

  test("web: Log out ends the session on the server and reloads to an empty login page", async () => {
    const t = await openPage(browser, f.url);
    await logIn(t.page, f.tokens.operator);
    const before = await t.context.cookies();
    expect(before.map((c) => c.name)).toEqual(["aegisclaw_session"]);
    await t.page.click("#logout");
    await t.page.locator("#login").waitFor({ state: "visible" });
    await t.page.waitForLoadState("load");
    expect(t.calls).toContain("DELETE /api/v1/session");
    expect(await t.context.cookies()).toEqual([]);
    expect(await t.page.locator("#app").isHidden()).toBe(true);
    expect(await t.page.locator("#overview-list dd").count()).toBe(0);
    expect(await scriptVisibleStorage(t.page)).toEqual({ local: 0, session: 0, cookie: "", databases: 0 });
    // The old cookie value no longer opens anything.
    const stale = await fetch(`${f.url}/api/v1/status`, { headers: { Cookie: `aegisclaw_session=${before[0]?.value ?? ""}` } });
    expect(stale.status).toBe(401);
    await t.context.close();
  });
});
