import type { AuditReason, AuditSource } from "../audit/index.ts";
import type { Risk } from "../policy/index.ts";

/**
 * Everything a person needs to judge a request, exactly as it will run. It is bound to
 * `requestHash` (sha256 of the canonical request): a resolution naming another hash is refused.
 */
export interface ApprovalRequest {
  /** The run id of the request waiting for approval. */
  id: string;
  requestHash: string;
  createdAt: string;
  expiresAt: string;
  actor: { name: string; source: AuditSource };
  argv: string[];
  image: string;
  runtime: string;
  /** Every requested scope with its risk. */
  scopes: Array<{ scope: string; risk: Risk }>;
  /** The policy's reasons for asking. */
  reasons: AuditReason[];
  risk: Risk;
  /** Present when the request runs a skill; untrusted = signed by a key not in the trust store. */
  skill?: { name: string; signature: "valid" | "unsigned" | "untrusted" | "invalid" };
  /** The process that holds the request (it runs the command once approved). */
  pid: number;
}

/** approve once | approve identical requests (same hash) for this approver's session | deny. */
export type ApprovalChoice = "approve" | "approve-session" | "deny";

/** Where a resolution came from; "timeout" and "system" (lockdown, cancelled requester) are not people. */
export type ApprovalChannel = "console" | "cli" | "tty" | "api" | "web" | "openclaw" | "timeout" | "system";

/** How a request ended. `by` names the person or component; `via` the channel. */
export interface ApprovalResolution {
  id: string;
  requestHash: string;
  outcome: "approved" | "denied" | "expired";
  by: string;
  via: ApprovalChannel;
  /** "session" when an earlier approve-for-session covered this identical request. */
  scope: "once" | "session";
  at: string;
}
