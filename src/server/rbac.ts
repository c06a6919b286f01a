import { z } from "zod";
import type { AegisEventType } from "../core/index.ts";

/** API roles, weakest first: viewer reads, operator also runs and approves, admin also changes lockdown and tokens. */
export const Role = z.enum(["viewer", "operator", "admin"]);
export type Role = z.infer<typeof Role>;

/** Who may call a route: "public" needs no token (only health and the session login itself). */
export type Access = Role | "public";

const RANK: Readonly<Record<Role, number>> = { viewer: 1, operator: 2, admin: 3 };

/** True when `role` is at least `required`. */
export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

/**
 * THE route table: every route the server answers, keyed `METHOD /path/{param}`, with the
 * weakest role that may call it. The router refuses to start if a route is missing here (or
 * this table names a route that does not exist); the auth-matrix test and docs/api.md are
 * checked against it. Workload output is operator-level: a viewer sees decisions, statuses
 * and the audit trail, not what the sandboxed commands printed.
 */
export const ROUTE_ACCESS = {
  "GET /api/v1/health": "public",
  "POST /api/v1/session": "public",
  "DELETE /api/v1/session": "viewer",
  "GET /api/v1/openapi.json": "viewer",
  "GET /api/v1/status": "viewer",
  "GET /api/v1/events": "viewer",
  "GET /metrics": "viewer",
  "GET /api/v1/runs": "viewer",
  "POST /api/v1/runs": "operator",
  "GET /api/v1/runs/{id}": "viewer",
  "GET /api/v1/runs/{id}/output": "operator",
  "POST /api/v1/runs/{id}/cancel": "operator",
  "GET /api/v1/skills": "viewer",
  "POST /api/v1/skills/{name}/run": "operator",
  "GET /api/v1/approvals": "viewer",
  "POST /api/v1/approvals/{id}/approve": "operator",
  "POST /api/v1/approvals/{id}/deny": "operator",
  "GET /api/v1/audit": "viewer",
  "GET /api/v1/audit/verify": "viewer",
  "GET /api/v1/audit/consistency": "viewer",
  "GET /api/v1/audit/{id}/explain": "viewer",
  "GET /api/v1/audit/{seq}/proof": "viewer",
  "GET /api/v1/policy": "viewer",
  "POST /api/v1/policy/simulate": "viewer",
  "POST /api/v1/decide": "operator",
  "POST /api/v1/openclaw/tool-calls": "operator",
  "POST /api/v1/openclaw/tool-calls/{id}/result": "operator",
  "GET /api/v1/posture": "viewer",
  "GET /api/v1/xray": "viewer",
  "GET /api/v1/xray/{id}": "viewer",
  "POST /api/v1/lockdown": "admin",
  "POST /api/v1/unlock": "admin",
  "GET /api/v1/tokens": "admin",
  "POST /api/v1/tokens": "admin",
  "DELETE /api/v1/tokens/{id}": "admin",
} as const satisfies Record<string, Access>;

/** A route's key in {@link ROUTE_ACCESS}. */
export type RouteKey = keyof typeof ROUTE_ACCESS;

/**
 * The weakest role that receives each event over the WebSocket hub. Output is operator-level,
 * like `GET /runs/{id}/output`; everything else is metadata a viewer may read anyway.
 */
export const EVENT_ACCESS: Readonly<Record<AegisEventType, Role>> = {
  decision: "viewer",
  "run.started": "viewer",
  "run.output": "operator",
  "run.finished": "viewer",
  "lockdown.changed": "viewer",
  "approval.requested": "viewer",
  "approval.resolved": "viewer",
  "audit.appended": "viewer",
  "adapter.health": "viewer",
};
