/**
 * Human approval of `ask` decisions: the per-process queue bound to request hashes, the
 * control socket that makes a process's runs and approvals visible to other processes of the
 * same home (console, `aegisclaw approvals`, the API), and the client side of it.
 */
export { ApprovalQueue } from "./queue.ts";
export { startControlServer, type ControlServer } from "./control-server.ts";
export { ControlClient } from "./control-client.ts";
export { controlKey, controlDir } from "./control-key.ts";
export { controlSockets, pendingApprovals, resolveApproval } from "./discovery.ts";
export { HomeMonitor } from "./monitor.ts";
export { ApprovalSession } from "./session.ts";
export type { ApprovalChannel, ApprovalChoice, ApprovalRequest, ApprovalResolution } from "./types.ts";
