/** net.outbound end to end with the compiled binary: run, audit entries, logs, simulate, gVisor refusal. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";

useCompiledBinary();

describe("egress (compiled binary, real Docker)", () => {
  let home: string;
  let web: ReturnType<typeof Bun.serve>;
  beforeAll(async () => {
    await requireDocker();
    home = tempHome();
    // permissive: net.outbound (high risk) is allowed without asking, so no person is needed here.
    expect((await aegis(home, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
    web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => new Response(`served ${new URL(request.url).pathname}\n`) });
  });
  afterAll(() => web.stop(true));

  test("egress: run --scope net.outbound:IP:PORT reaches that server and nothing else; every connection is in the log", async () => {
    const grant = `net.outbound:127.0.0.1:${web.port}`;
    const result = await aegis(home, ["run", "--scope", grant, "--", "sh", "-c", `wget -q -O- http://127.0.0.1:${web.port}/ok && wget -q -O- http://example.com/ 2>&1; echo "second=$?"`]);
    expect(result.stdout).toContain("served /ok\n");
    expect(result.stdout).toContain("403 Forbidden");
    expect(result.stdout).toContain("second=1");
    expect(result.exitCode).toBe(0);
    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
    const decision = entries.findLast((entry) => entry.type === "decision");
    const run = entries.filter((entry) => entry.runId === decision?.runId);
    expect(run.map((entry) => entry.type)).toEqual(["decision", "egress", "egress", "result"]);
    expect(run[1]?.egress).toMatchObject({ outcome: "allowed", host: "127.0.0.1", port: web.port });
    expect(run[2]?.egress).toMatchObject({ outcome: "denied", rule: "egress.not-granted", host: "example.com" });
    const human = (await aegis(home, ["logs"])).stdout;
    expect(human).toContain(`ALLOWED GET 127.0.0.1:${web.port} [egress.allowed]`);
    expect(human).toContain("DENIED GET example.com:80 [egress.not-granted]");
    const explained = (await aegis(home, ["logs", "explain", String(decision?.runId)])).stdout;
    expect(explained).toContain(`ALLOWED GET 127.0.0.1:${web.port}`);
    expect(explained).toContain("DENIED GET example.com:80");
  });

  test("egress: without --scope net.outbound the sandbox has no network, even with a config grant", async () => {
    const other = tempHome();
    expect((await aegis(other, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
    const path = join(other, "config.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace(/^(\s*grants:).*$/m, `$1 [shell.exec, "net.outbound:127.0.0.1:${web.port}"]`));
    const result = await aegis(other, ["run", "--", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; env | grep -ci proxy"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("lo\n0\n");
    const decision = jsonLines((await aegis(other, ["logs", "--json"])).stdout).findLast((entry) => entry.type === "decision");
    expect(decision?.request).toMatchObject({ granted: ["shell.exec", `net.outbound:127.0.0.1:${web.port}`] });
  });

  test("egress: --runtime gvisor with net.outbound exits 69, says why, and records nothing", async () => {
    const before = jsonLines((await aegis(home, ["logs", "--json"])).stdout).length;
    const result = await aegis(home, ["run", "--runtime", "gvisor", "--scope", "net.outbound:example.com", "--", "true"]);
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("--network=none");
    expect(jsonLines((await aegis(home, ["logs", "--json"])).stdout).length).toBe(before);
  });

  test("egress: simulate shows the egress network and the allowlist", async () => {
    const result = await aegis(home, ["simulate", "--scope", "net.outbound:*.example.org:8443", "--", "true"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/network\s+aegisclaw-egress \(internal; only via the AegisClaw egress proxy to net\.outbound:\*\.example\.org:8443\)/);
  });
});
