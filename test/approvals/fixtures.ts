import type { ApprovalRequest } from "../../src/approvals/index.ts";

/** A pending request as the Gate would queue it (hash and id unique per call). */
export function approvalRequest(overrides: Partial<ApprovalRequest> = {}, expiresInMs = 60_000): ApprovalRequest {
  const id = `r-test-${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
  const now = Date.now();
  return {
    id,
    requestHash: crypto.getRandomValues(new Uint8Array(32)).toHex(),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + expiresInMs).toISOString(),
    actor: { name: "tester", source: "cli" },
    argv: ["rm", "-rf", "/data"],
    image: "aegisclaw/base:busybox",
    runtime: "docker",
    scopes: [{ scope: "shell.exec:rm", risk: "medium" }],
    reasons: [{ rule: "strict.approval-required", message: "needs a person" }],
    risk: "medium",
    pid: process.pid,
    ...overrides,
  };
}
