import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { body, startFixture, type ServerFixture } from "../server/helpers.ts";
import { installSkill } from "../server/skill-install.ts";
import { removeTestImages } from "../skills/helpers.ts";
import { launchBrowser, logIn, openPage, screenshot, type TestPage } from "./browser.ts";

/**
 * The skills panel with real installed skills: a signed code-runner (allowed under standard)
 * and an unsigned file-organiser (asks, and needs a directory for {dir}).
 */
describe("web dashboard skills panel (real Chromium, standard template, real Docker)", () => {
  let f: ServerFixture;
  let browser: Browser;

  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ template: "standard" });
    await installSkill(f.home, "code-runner", { signed: true });
    await installSkill(f.home, "file-organiser");
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
    removeTestImages();
  });

  test("web: an operator clicks Run on code-runner's sh command; the run appears in the runs panel with its output", async () => {
    const t: TestPage = await openPage(browser, f.url);
    const { page } = t;
    await logIn(page, f.tokens.operator);
    const runner = page.locator("[data-skill=code-runner]");
    await runner.waitFor();
    expect(await runner.locator("[data-signature]").getAttribute("data-signature")).toBe("valid");
    expect(await page.locator("[data-skill=file-organiser] [data-signature]").textContent()).toBe("UNSIGNED");
    const sh = runner.locator(".skill-command[data-command=sh]");
    await sh.locator("[data-args]").fill("'echo skill-web-$((6*7))'");
    await sh.locator("[data-action=run]").click();
    await page.locator("#terminal", { hasText: "skill-web-42" }).waitFor({ timeout: 30_000 });
    await page.locator("#terminal", { hasText: "[finished: exit 0" }).waitFor({ timeout: 30_000 });
    await page.locator("#runs-list tr[data-status=finished] .run-argv", { hasText: "/skill/run-sh" }).waitFor({ timeout: 10_000 });
    await screenshot(page, "11-skill-run");
    expect(t.calls).toContain("POST /api/v1/skills/code-runner/run");
    expect(t.errors).toEqual([]);

    // A command with a path parameter shows an input for it; an unsigned skill asks a person.
    const plan = page.locator("[data-skill=file-organiser] .skill-command[data-command=plan]");
    await plan.locator("[data-action=run]").click();
    await plan.locator(".msg", { hasText: "Give a directory for {dir}." }).waitFor();
    await plan.locator("[data-path=dir]").fill(tempDir());
    await plan.locator("[data-action=run]").click();
    await plan.locator(".msg", { hasText: "Waiting for approval" }).waitFor({ timeout: 10_000 });
    const pending = ((await body(await f.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; argv: string[] }>)[0];
    expect(pending?.argv.slice(0, 2)).toEqual(["/skill/organise", "plan"]);
    expect((await f.call(`/api/v1/runs/${pending?.id}/cancel`, { as: "operator", method: "POST" })).status).toBe(202);
    await t.context.close();
  });

  test("web: a viewer sees the skills but every Run is disabled with the reason", async () => {
    const t = await openPage(browser, f.url);
    await logIn(t.page, f.tokens.viewer);
    const button = t.page.locator("[data-skill=code-runner] [data-command=sh] [data-action=run]");
    await button.waitFor();
    expect(await button.isDisabled()).toBe(true);
    expect(await button.getAttribute("title")).toBe("Running skills needs the operator role; you are logged in as vera (viewer)");
    expect(await t.page.textContent("#skills-msg")).toBe("Running skills needs the operator role; you are logged in as vera (viewer).");
    await screenshot(t.page, "12-skills-viewer");
    await t.context.close();
  });
});
