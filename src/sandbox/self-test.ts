/**
 * The isolation self-test: a tiny sandbox, created through the very same hardened path as a
 * real run, reports what it sees from the inside, and the report is checked against what
 * AegisClaw promises. Reading our own create request back (the post-create check) proves the
 * engine stored the settings; this proves the OCI runtime actually enforced them. The second
 * matters most for gVisor, which silently ignores seccomp without `--oci-seccomp`.
 */
import { release } from "node:os";

/**
 * Runs under busybox `sh`. Every line is `key=value`, so a missing tool shows up as an empty
 * value (and fails the check) rather than as a skipped one.
 * - NoNewPrivs: gVisor's /proc/self/status has no such line, so `setpriv -d` (prctl
 *   PR_GET_NO_NEW_PRIVS) is read as well.
 * - unshare -U needs no capability, so its failure proves a seccomp filter is in force
 *   (it succeeds under runsc without --oci-seccomp; see notes/stack.md §4).
 */
export const SELF_TEST_SCRIPT = [
  'echo "uid=$(id -u)"',
  "while read -r key value rest; do",
  '  case "$key" in CapEff:|CapPrm:|CapBnd:|Seccomp:|NoNewPrivs:) echo "${key%:}=$value" ;; esac',
  "done < /proc/self/status",
  'echo "nnp=$(setpriv -d 2>/dev/null | sed -n "s/^no_new_privs: *//p")"',
  'echo "kernel=$(uname -r)"',
  "echo \"interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ',')\"",
  'if ( echo x > /aegisclaw-self-test ) 2>/dev/null; then echo rootfs=writable; else echo rootfs=read-only; fi',
  'message=$(unshare -U true 2>&1); echo "unshare=$? $message"',
].join("\n");

/** What the self-test saw inside the sandbox, as recorded in the cache file. */
export interface SelfTestReport {
  uid: string;
  capEff: string;
  capPrm: string;
  capBnd: string;
  seccomp: string;
  noNewPrivs: string;
  kernel: string;
  interfaces: string[];
  rootfs: string;
  unshare: string;
}

/** Parses the script's `key=value` lines; absent keys become empty strings. */
export function parseSelfTest(stdout: string): SelfTestReport {
  const values = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0 && !values.has(line.slice(0, at))) values.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  const get = (key: string) => values.get(key) ?? "";
  return {
    uid: get("uid"),
    capEff: get("CapEff"),
    capPrm: get("CapPrm"),
    capBnd: get("CapBnd"),
    seccomp: get("Seccomp"),
    // The kernel's own field when it has one; gVisor only answers through prctl.
    noNewPrivs: get("NoNewPrivs") || get("nnp"),
    kernel: get("kernel"),
    interfaces: get("interfaces").split(",").filter(Boolean),
    rootfs: get("rootfs"),
    unshare: get("unshare"),
  };
}

/** How strict to be: gVisor must not show the host kernel; runc must show our ENOSYS profile. */
export interface SelfTestExpectation {
  /** True for a user-space kernel (gVisor): the reported kernel must not be the host's. */
  userSpaceKernel: boolean;
  /** The host kernel release to compare with (default: this machine's). */
  hostKernel?: string;
}

const NO_CAPS = "0000000000000000";

/** Every way the report falls short of the promised isolation; empty means it holds. */
export function selfTestProblems(report: SelfTestReport, expectation: SelfTestExpectation): string[] {
  const problems: string[] = [];
  const expect = (what: string, ok: boolean, seen: string) => {
    if (!ok) problems.push(`${what} (saw ${JSON.stringify(seen)})`);
  };
  expect("uid 65534", report.uid === "65534", report.uid);
  expect("no effective capabilities", report.capEff === NO_CAPS, report.capEff);
  expect("no permitted capabilities", report.capPrm === NO_CAPS, report.capPrm);
  expect("empty capability bounding set", report.capBnd === NO_CAPS, report.capBnd);
  expect("seccomp filter mode 2", report.seccomp === "2", report.seccomp);
  expect("no_new_privs 1", report.noNewPrivs === "1", report.noNewPrivs);
  expect("only the loopback interface", report.interfaces.length === 1 && report.interfaces[0] === "lo", report.interfaces.join(","));
  expect("read-only root filesystem", report.rootfs === "read-only", report.rootfs);
  const [status = "", ...message] = report.unshare.split(" ");
  // 126/127 would mean the probe never ran (image without unshare), which proves nothing.
  expect("unshare -U refused by seccomp", status !== "" && status !== "0" && status !== "126" && status !== "127", report.unshare);
  if (expectation.userSpaceKernel) {
    const host = expectation.hostKernel ?? release();
    expect("a user-space kernel, not the host's", report.kernel !== "" && report.kernel !== host, report.kernel);
  } else {
    // ENOSYS rather than Docker's default EPERM: the profile in force is AegisClaw's.
    expect("unshare answered ENOSYS by the AegisClaw profile", message.join(" ").includes("Function not implemented"), report.unshare);
  }
  return problems;
}
