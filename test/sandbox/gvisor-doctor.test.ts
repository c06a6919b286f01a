/**
 * doctor's gvisor verdicts. The registrations are data here because the failing cases (runsc
 * without --oci-seccomp) must not be produced by re-registering the machine's real runtime.
 */
import { describe, expect, test } from "bun:test";
import { judgeGvisor } from "../../src/doctor/checks.ts";

const RUNC = { runc: { path: "runc", runtimeArgs: [] } };
const GOOD = { ...RUNC, runsc: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none", "--oci-seccomp"] } };

describe("doctor gvisor check", () => {
  test("doctor gvisor: pass names both runtimeArgs", () => {
    const check = judgeGvisor(GOOD, "docker");
    expect(check.status).toBe("pass");
    expect(check.message).toContain("runsc registered with --network=none --oci-seccomp");
  });

  test("doctor gvisor: not registered is a warning with the setup script as fix, a failure when config selects gvisor", () => {
    const optional = judgeGvisor(RUNC, "docker");
    expect(optional.status).toBe("warn");
    expect(optional.fix).toContain("bash scripts/setup-gvisor.sh");
    expect(judgeGvisor(RUNC, "gvisor").status).toBe("fail");
  });

  test("doctor gvisor: registered without --oci-seccomp fails and says seccomp would be ignored", () => {
    const check = judgeGvisor({ ...RUNC, runsc: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none"] } }, "docker");
    expect(check.status).toBe("fail");
    expect(check.message).toContain("ignores the seccomp profile");
    expect(check.fix).toContain("bash scripts/setup-gvisor.sh");
  });

  test("doctor gvisor: registered without --network=none cannot start sandboxes here", () => {
    const runsc = { path: "/usr/bin/runsc", runtimeArgs: ["--oci-seccomp"] };
    expect(judgeGvisor({ ...RUNC, runsc }, "docker").status).toBe("warn");
    expect(judgeGvisor({ ...RUNC, runsc }, "gvisor").status).toBe("fail");
  });
});
