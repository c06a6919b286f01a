/**
 * OpenClaw's own exec approvals (`tools.exec.mode: ask`) answered from AegisClaw's queue: the
 * approval bridge inside `aegisclaw serve` (adapters/openclaw.yaml enabled, the gateway token in
 * AegisClaw's secret store) is the only approval route the real gateway has. The plugin allows
 * the call first (permissive, granted), then OpenClaw asks, and a person answers in AegisClaw.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { homeLeaks } from "../../secrets/delivery-support.ts";
import type { AuditEntry } from "./aegis.ts";
import { startHarness, type Harness } from "./harness.ts";
import { waitFor } from "./processes.ts";

setDefaultTimeout(120_000);

let h: Harness;
const tag = () => crypto.getRandomValues(new Uint8Array(4)).toHex();

beforeAll(async () => {
  h = await startHarness({
    template: "permissive",
    grants: ["shell.exec:echo", "shell.exec:touch"],
    execMode: "ask",
    adapter: { enabled: true, api_key_secret: "OPENCLAW_GATEWAY_TOKEN", approval_bridge: true },
    approvalsTimeout: "30s",
    prepare: async (aegis, oc) => {
      // The adapter's endpoint is the test gateway; its token goes into AegisClaw's secret store only.
      const file = join(aegis.home, "adapters", "openclaw.yaml");
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), endpoint: `http://127.0.0.1:${oc.port}` }, null, 2));
      for (const [args, stdin] of [[["secrets", "init"]], [["secrets", "set", "OPENCLAW_GATEWAY_TOKEN"], `${oc.token}\n`]] as const) {
        const result = await aegis.cli([...args], stdin);
        if (result.exitCode !== 0) throw new Error(`aegisclaw ${args.join(" ")}: ${result.stderr}`);
      }
    },
  });
  // serve started before the gateway; restart it so the bridge connects now instead of after its backoff.
  await h.aegis.start();
  await waitFor("the approval bridge's gateway connection", async () => {
    const status = (await (await h.aegis.api("/api/v1/status")).json()) as { adapters?: Array<{ state?: string; websocket?: { connected?: boolean } }> };
    return status.adapters?.[0]?.websocket?.connected === true ? true : undefined;
  }, 30_000, () => h.aegis.output());
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

interface Pending {
  id: string;
  requestHash: string;
  argv: string[];
  actor?: { source?: string };
}

async function bridged(command: string): Promise<Pending> {
  return waitFor(`the bridged OpenClaw exec approval for ${command}`, async () => {
    const { pending } = (await (await h.aegis.api("/api/v1/approvals")).json()) as { pending: Pending[] };
    return pending.find((request) => request.argv.length === 1 && request.argv[0] === command);
  }, 30_000, () => h.aegis.output());
}

async function bridgeEntries(command: string, types: string[]): Promise<AuditEntry[]> {
  return waitFor(`the bridge's audit entries for ${command}`, async () => {
    const entries = await h.aegis.logs();
    const decision = entries.find((e) => e.type === "decision" && e.request?.approvalKind === "exec" && e.request?.argv?.[0] === command);
    const mine = decision ? entries.filter((e) => e.runId === decision.runId) : [];
    return JSON.stringify(mine.map((e) => e.type)) === JSON.stringify(types) ? mine : undefined;
  }, 15_000);
}

describe("OpenClaw exec approvals through AegisClaw's bridge (real OpenClaw gateway)", () => {
  test("openclaw bridge: OpenClaw's exec approval appears in AegisClaw's queue; approved through the API, the command runs; both gates audited", async () => {
    const word = `aegis-bridge-${tag()}`;
    const command = `echo ${word}`;
    const { toolResult } = await h.time("bridge approved", async () => {
      const call = h.call("exec", { command });
      const request = await bridged(command);
      expect(request.actor?.source).toBe("openclaw");
      expect((await h.aegis.api(`/api/v1/approvals/${request.id}/approve`, { json: { requestHash: request.requestHash } })).status).toBe(200);
      return call;
    });
    expect(toolResult.trim()).toBe(word);
    const [decision, approval] = await bridgeEntries(command, ["decision", "approval"]);
    expect(decision).toMatchObject({ actor: { source: "openclaw" }, decision: { kind: "ask", reasons: [expect.objectContaining({ rule: "openclaw.exec-approval" })] } });
    expect(approval?.approval).toMatchObject({ outcome: "approved", by: "e2e-admin", via: "api" });
    // The plugin's own decision on the same call came first, and its result closed it.
    const plugin = await waitFor("the plugin's decision and result", async () => {
      const entries = await h.aegis.logs();
      const allowed = entries.find((e) => e.type === "decision" && e.request?.tool === "exec" && e.request?.argv?.join(" ") === command);
      const mine = entries.filter((e) => allowed && e.runId === allowed.runId);
      return mine.length === 2 ? mine : undefined;
    }, 15_000);
    expect(plugin.map((e) => [e.type, e.decision?.kind ?? e.result?.exitCode])).toEqual([["decision", "allow"], ["result", 0]]);
    expect(plugin[0]!.seq).toBeLessThan(decision!.seq);
    // The gateway token lives only in the encrypted secret store.
    expect(homeLeaks(h.aegis.home, h.oc.token)).toEqual([]);
  });

  test("openclaw bridge: denied in AegisClaw, OpenClaw does not run the command", async () => {
    const marker = join(h.oc.workspace, `bridge-denied-${tag()}`);
    const command = `touch ${marker}`;
    const call = h.call("exec", { command });
    const request = await bridged(command);
    expect((await h.aegis.api(`/api/v1/approvals/${request.id}/deny`, { json: { requestHash: request.requestHash } })).status).toBe(200);
    const { toolResult } = await call;
    expect(toolResult).toContain("Exec denied");
    expect(toolResult).toContain("user-denied");
    expect(existsSync(marker)).toBe(false);
    const [, approval] = await bridgeEntries(command, ["decision", "approval"]);
    expect(approval?.approval).toMatchObject({ outcome: "denied", via: "api" });
  });
});
