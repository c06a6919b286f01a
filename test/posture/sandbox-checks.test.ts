/**
 * Sandbox checks on recorded evidence: which self-test records still count, and the seccomp,
 * runtime and network verdicts for engine states this machine cannot be put into (an engine
 * without seccomp, runsc without --oci-seccomp). The facts are plain data in the shape GET
 * /info gives; the real engine is exercised in homes.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { Config } from "../../src/core/index.ts";
import { networkCheck, runtimeCheck, seccompCheck } from "../../src/posture/checks-sandbox.ts";
import { type EngineFacts, judgeSelfTest } from "../../src/posture/engine-evidence.ts";
import { SECCOMP_PROFILE, type SelfTestEntry } from "../../src/sandbox/index.ts";
import { canonicalHash } from "../../src/shared/index.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const facts: EngineFacts = {
  id: "ENGINE-1",
  version: "20.10.24",
  seccomp: true,
  runtimes: { runc: { path: "runc", runtimeArgs: [] }, runsc: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none", "--oci-seccomp"] } },
};

function entry(overrides: { passedAt?: string; seccomp?: string; key?: Partial<SelfTestEntry["key"]> } = {}): SelfTestEntry {
  return {
    key: {
      engineId: "ENGINE-1",
      engineVersion: "20.10.24",
      ociRuntime: "runc",
      registration: { path: "runc", runtimeArgs: [] },
      runtimeBinary: "unknown",
      seccompProfileHash: canonicalHash(SECCOMP_PROFILE),
      ...overrides.key,
    },
    passedAt: overrides.passedAt ?? "2026-06-01T11:00:00.000Z",
    image: "aegisclaw/base:busybox",
    runtimeVersion: "runc 1.1",
    report: { uid: "65534", capEff: "0", capPrm: "0", capBnd: "0", seccomp: overrides.seccomp ?? "2", noNewPrivs: "1", kernel: "6", interfaces: ["lo"], rootfs: "read-only", unshare: "1 Function not implemented" },
  };
}

const docker = Config.parse({ version: 1 });
const gvisor = Config.parse({ version: 1, sandbox: { runtime: "gvisor" } });

describe("posture self-test evidence", () => {
  test("posture: a recent record for this engine, runtime and profile confirms seccomp", () => {
    expect(judgeSelfTest(entry(), facts, "runc", NOW).kind).toBe("confirmed");
  });

  test("posture: records that no longer speak for the runtime are stale, each with its reason", () => {
    const stale: Array<[SelfTestEntry, RegExp]> = [
      [entry({ passedAt: "2026-05-30T11:00:00.000Z" }), /more than 24 h/],
      [entry({ passedAt: "2026-06-02T11:00:00.000Z" }), /not believable/],
      [entry({ passedAt: "garbage" }), /not believable/],
      [entry({ key: { seccompProfileHash: "0".repeat(64) } }), /different seccomp profile/],
      [entry({ key: { engineId: "OTHER" } }), /different Docker engine/],
      [entry({ key: { ociRuntime: "runsc" } }), /OCI runtime runsc/],
      [entry({ key: { registration: { path: "/opt/runc", runtimeArgs: [] } } }), /registered differently/],
      [entry({ seccomp: "0" }), /seccomp mode "0"/],
    ];
    for (const [record, why] of stale) {
      const verdict = judgeSelfTest(record, facts, "runc", NOW);
      expect(verdict.kind).toBe("stale");
      if (verdict.kind === "stale") expect(verdict.why).toMatch(why);
    }
    expect(judgeSelfTest(undefined, facts, "runc", NOW).kind).toBe("missing");
  });

  test("posture seccomp: confirmed earns 10, unconfirmed 5 with a fix", () => {
    expect(seccompCheck(docker, facts, entry(), NOW)).toMatchObject({ earned: 10 });
    const missing = seccompCheck(docker, facts, undefined, NOW);
    expect(missing).toMatchObject({ earned: 5 });
    expect(missing.fix).toContain("aegisclaw run");
    const stale = seccompCheck(docker, facts, entry({ passedAt: "2026-05-01T00:00:00Z" }), NOW);
    expect(stale.earned).toBe(5);
    expect(stale.detail).toContain("more than 24 h");
  });

  test("posture seccomp: no engine answer, no seccomp support, runsc without --oci-seccomp earn nothing", () => {
    expect(seccompCheck(docker, undefined, entry(), NOW)).toMatchObject({ earned: 0, status: "unknown" });
    const noSeccomp = seccompCheck(docker, { ...facts, seccomp: false }, entry(), NOW);
    expect(noSeccomp.earned).toBe(0);
    expect(noSeccomp.fix).toContain("CONFIG_SECCOMP");
    const bareRunsc = { ...facts, runtimes: { ...facts.runtimes, runsc: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none"] } } };
    const ignored = seccompCheck(gvisor, bareRunsc, entry({ key: { ociRuntime: "runsc" } }), NOW);
    expect(ignored.earned).toBe(0);
    expect(ignored.fix).toContain("setup-gvisor.sh");
  });

  test("posture runtime: gvisor 20, runc 14 with the gvisor fix, unavailable 0 with the runtime's own hint", () => {
    const up = { available: true, runtime: "x", detail: "ok" };
    expect(runtimeCheck(gvisor, up, facts)).toMatchObject({ earned: 20 });
    const runc = runtimeCheck(docker, up, facts);
    expect(runc.earned).toBe(14);
    expect(runc.fix).toContain("sandbox.runtime: gvisor");
    expect(runtimeCheck(docker, up, { ...facts, runtimes: {} }).fix).toContain("setup-gvisor.sh");
    const down = runtimeCheck(gvisor, { available: false, runtime: "gvisor", detail: "OCI runtime runsc is not registered", hint: "register gVisor" }, facts);
    expect(down).toMatchObject({ earned: 0, fix: "register gVisor" });
  });

  test("posture network: no grant 10, a specific host 5, a wildcard or over-broad grant 0, each with a fix", () => {
    expect(networkCheck(docker)).toMatchObject({ earned: 10 });
    const grants = (list: string[]) => Config.parse({ version: 1, policy: { grants: ["shell.exec", ...list] } });
    const host = networkCheck(grants(["net.outbound:api.example.com:443"]));
    expect(host.earned).toBe(5);
    expect(host.fix).toContain("remove `net.outbound:api.example.com:443` from policy.grants");
    for (const broad of ["net.outbound:*", "net.outbound", "net.outbound:*.example.com", "net.outbound:*.com"]) {
      const check = networkCheck(grants([broad]));
      expect(`${broad}:${check.earned}`).toBe(`${broad}:0`);
      expect(check.fix).toContain("policy.grants");
    }
  });
});
