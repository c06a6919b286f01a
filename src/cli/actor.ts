import { userInfo } from "node:os";

/** The local user as an audit actor: the login name, or the uid when there is none. */
export function localActor(): { name: string; source: "cli" } {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = `uid:${process.getuid?.() ?? "unknown"}`;
  }
  return { name, source: "cli" };
}
