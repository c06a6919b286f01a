import type { Api } from "../api.ts";
import type { Role, Session } from "../types.ts";

/** The panels that refresh independently. */
export type Panel = "status" | "posture" | "approvals" | "runs" | "audit" | "skills";

/** What every panel gets: the API client, who is logged in, and a way to ask for refreshes. */
export interface ViewContext {
  api: Api;
  session: Session;
  /** Re-fetches these panels soon (coalesced). */
  refresh(...panels: Panel[]): void;
  /**
   * Aborted when this login ends: listeners on the page's fixed elements are registered with
   * it, so a later login in the same page does not inherit the previous session's handlers.
   */
  signal: AbortSignal;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 1, operator: 2, admin: 3 };

/**
 * Whether the logged-in role may use a control. Only for showing controls as disabled: the
 * server enforces every role itself, whatever the page sends.
 */
export function can(session: Session, needed: Role): boolean {
  return RANK[session.role] >= RANK[needed];
}

/** Why a control is disabled for this role. */
export function needsRole(session: Session, needed: Role): string {
  return `needs the ${needed} role; you are logged in as ${session.name} (${session.role})`;
}
