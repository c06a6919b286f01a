import type { ApprovalRequest } from "./types.ts";

/**
 * "Approve identical requests for this session": the hashes one approver (a console, a web
 * session) approved that way. Only a request with the same canonical hash — same argv, image,
 * runtime, scopes, mounts, timeout and actor — is covered; it ends with the approver.
 */
export class ApprovalSession {
  private readonly hashes = new Set<string>();

  remember(requestHash: string): void {
    this.hashes.add(requestHash);
  }

  covers(request: ApprovalRequest): boolean {
    return this.hashes.has(request.requestHash);
  }

  get size(): number {
    return this.hashes.size;
  }
}
