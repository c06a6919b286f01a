/**
 * The API shapes the dashboard reads (docs/api.md). Declared here rather than imported from
 * src/server: the browser bundle must not pull server code in, and these are only the fields
 * the page shows.
 */

export type Role = "viewer" | "operator" | "admin";

export interface Session {
  name: string;
  role: Role;
  csrfToken: string;
  expiresAt: string;
}

export interface Reason {
  rule: string;
  message: string;
  scope?: string;
  field?: string;
}

export interface Decision {
  kind: "allow" | "deny" | "ask";
  reasons: Reason[];
}

export type RunStatus = "awaiting-approval" | "starting" | "running" | "finished" | "cancelled" | "denied" | "lockdown" | "error";

export interface Run {
  runId: string;
  requestHash: string;
  status: RunStatus;
  actor: { name: string; source: string };
  argv: string[];
  createdAt: string;
  finishedAt?: string;
  decision: Decision;
  exitCode?: number;
  durationMs?: number;
  timedOut?: boolean;
  killedBy?: string;
  error?: { code: string; message: string };
  output: { bytes: number; truncated: boolean };
}

export interface Envelope {
  runtime: string;
  image?: string;
  user?: string;
  network: string;
  seccomp: string;
  capabilities?: string;
  rootFilesystem?: string;
  noNewPrivileges?: boolean;
  limits?: { pids?: number; memoryBytes?: number; cpus?: number; timeoutMs?: number };
}

export interface Lockdown {
  active: boolean;
  reason?: string;
  since?: string;
}

export interface Status {
  version: string;
  envelope: Envelope;
  lockdown: Lockdown;
  policy: { template: string; grants: string[] };
  adapters: Array<{ name: string; status: string }>;
  approvals?: { pending: number };
  runs?: { active: number };
  clients?: { websocket: number };
}

export type Risk = "low" | "medium" | "high" | "critical";

export interface PendingApproval {
  id: string;
  requestHash: string;
  createdAt: string;
  expiresAt: string;
  actor: { name: string; source: string };
  argv: string[];
  image: string;
  runtime: string;
  scopes: Array<{ scope: string; risk: Risk }>;
  reasons: Reason[];
  risk: Risk;
  holder: "server" | "process";
}

export interface AuditEntry {
  seq: number;
  type: string;
  time: string;
  actor: { name: string; source: string };
  runId?: string;
  request?: { argv?: string[] };
  decision?: { kind: Decision["kind"]; reasons: Reason[]; approvedBy?: string };
  result?: { exitCode: number; durationMs: number; timedOut: boolean; killedBy?: string; error?: string };
  approval?: { outcome: string; by: string; via: string };
  redactions?: number;
  note?: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpoints?: number;
  rootHash: string;
  failure?: { seq?: number; segment: string; line?: number; reason: string };
}

export interface PostureCheck {
  id: string;
  title: string;
  weight: number;
  earned: number;
  status: "pass" | "partial" | "fail" | "unknown";
  detail: string;
  fix?: string;
}

export interface Posture {
  score: number;
  grade: string;
  checks: PostureCheck[];
}

/** An event from the hub: `{id, type, time, data}` (output is already redacted by the server). */
export interface LiveEvent {
  id: number;
  type: string;
  time: string;
  data: unknown;
}

export type SignatureStatus = "valid" | "unsigned" | "untrusted" | "invalid";

/** An installed skill as `GET /skills` lists it. */
export interface Skill {
  name: string;
  version: string;
  description: string;
  imageId: string;
  installedAt: string;
  signature: { status: SignatureStatus; reason: string; publisher?: string; keyId?: string };
  scopes: string[];
  commands: Array<{ name: string; description?: string; scopes: string[]; paths: string[] }>;
}
