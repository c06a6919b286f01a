/**
 * OpenClaw uses AegisClaw's MCP server (`mcp.servers.aegisclaw` = `aegisclaw mcp-server` on the
 * same home): the model's `aegisclaw__sandbox_exec` runs inside AegisClaw's hardened container,
 * proven from inside (uid, capabilities, seccomp), and a canary secret the command prints is
 * redacted before OpenClaw sees it: it is in no OpenClaw file, log or transcript.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { requireDocker } from "../../helpers/docker.ts";
import { homeLeaks, leakedForms } from "../../secrets/delivery-support.ts";
import { startHarness, type Harness } from "./harness.ts";
import { waitFor } from "./processes.ts";

setDefaultTimeout(120_000);

const CANARY = `CANARY-oc-${crypto.getRandomValues(new Uint8Array(8)).toHex()}`;
const MARKER = "[REDACTED:secret:E2E_CANARY]";
const SCRIPT = 'echo "uid=$(id -u)"; grep Cap /proc/self/status; grep Seccomp: /proc/self/status; printf "canary=%s\\n" "$(cat /run/secrets/E2E_CANARY)"';

let h: Harness;

beforeAll(async () => {
  await requireDocker();
  h = await startHarness({
    template: "permissive",
    grants: [],
    mcp: true,
    prepare: async (aegis) => {
      for (const [args, stdin] of [[["secrets", "init"]], [["secrets", "set", "E2E_CANARY"], `${CANARY}\n`]] as const) {
        const result = await aegis.cli([...args], stdin);
        if (result.exitCode !== 0) throw new Error(`aegisclaw ${args.join(" ")}: ${result.stderr}`);
      }
    },
  });
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

describe("OpenClaw + AegisClaw MCP server e2e (real OpenClaw gateway, real Docker)", () => {
  test("openclaw mcp: sandbox_exec runs in the hardened container (non-root, no capabilities, seccomp) and the canary reaches OpenClaw redacted", async () => {
    const args = { argv: ["sh", "-c", SCRIPT], scopes: ["shell.exec:sh", "secrets.read:E2E_CANARY"] };
    const { toolResult, turn } = await h.time("mcp sandbox_exec (approved)", async () => {
      const call = h.call("aegisclaw__sandbox_exec", args);
      // secrets.read is critical risk: every template asks; the request waits in the MCP server's process.
      const pending = await waitFor("the MCP run's approval request", async () => {
        const { pending } = (await (await h.aegis.api("/api/v1/approvals")).json()) as { pending: Array<{ id: string; requestHash: string; argv: string[]; holder: string }> };
        return pending.find((request) => request.argv[0] === "sh");
      }, 60_000);
      expect(pending.holder).toBe("process");
      expect((await h.aegis.api(`/api/v1/approvals/${pending.id}/approve`, { json: { requestHash: pending.requestHash } })).status).toBe(200);
      return call;
    });

    const uid = Number(/uid=(\d+)/.exec(toolResult)?.[1]);
    expect(uid).toBeGreaterThan(0);
    expect(toolResult).toMatch(/CapEff:\s+0{16}/);
    expect(toolResult).toMatch(/CapPrm:\s+0{16}/);
    expect(toolResult).toMatch(/CapBnd:\s+0{16}/);
    expect(toolResult).toMatch(/Seccomp:\s+2/);
    expect(toolResult).toContain(`canary=${MARKER}`);
    expect(turn.text).toContain(MARKER);

    // Nothing OpenClaw received, stored or logged holds the canary in any form.
    expect(leakedForms(JSON.stringify(h.model.requests), CANARY)).toEqual([]);
    expect(leakedForms(JSON.stringify(h.client.events), CANARY)).toEqual([]);
    expect(leakedForms(h.gateway.process.output(), CANARY)).toEqual([]);
    expect(existsSync(join(h.oc.dir, "logs", "openclaw.log"))).toBe(true);
    expect(homeLeaks(h.oc.dir, CANARY)).toEqual([]);
    // OpenClaw's default log directory, in case some logger ignores logging.file.
    expect(homeLeaks("/tmp/openclaw", CANARY)).toEqual([]);

    // AegisClaw recorded both gates: the plugin's decision on the OpenClaw call, and the MCP run.
    const entries = await h.aegis.logs();
    const pluginDecision = entries.find((e) => e.type === "decision" && e.actor?.source === "openclaw" && e.request?.tool === "aegisclaw__sandbox_exec");
    expect(pluginDecision?.decision).toMatchObject({ kind: "allow" });
    const runId = entries.find((e) => e.type === "decision" && e.actor?.source === "mcp")?.runId;
    expect(runId).toBeString();
    const mine = entries.filter((e) => e.runId === runId);
    expect(mine.map((e) => e.type)).toEqual(["decision", "approval", "result"]);
    expect(mine[0]?.request).toMatchObject({ secrets: ["E2E_CANARY"], requested: ["shell.exec:sh", "secrets.read:E2E_CANARY"] });
    expect(mine[1]?.approval).toMatchObject({ outcome: "approved", via: "api" });
    expect(mine[2]?.redactionKinds).toEqual({ "secret:E2E_CANARY": 1 });
    expect(homeLeaks(h.aegis.home, CANARY)).toEqual([]);
  });
});
