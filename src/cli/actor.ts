import { userInfo } from "node:os";

/** The local user as an audit actor: the login name, or the uid when none can be found. */
export function localActor(): { name: string; source: "cli" } {
  const uid = process.getuid?.();
  let name = process.env.USER ?? process.env.LOGNAME;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = undefined;
    }
  }
  // Bun reports "unknown" when the passwd lookup fails; a uid is more useful in an audit trail.
  if (!name || name === "unknown") name = `uid:${uid ?? "unknown"}`;
  return { name, source: "cli" };
}
