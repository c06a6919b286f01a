/**
 * When AegisClaw is root, bwrap runs as uid 65534 (so the sandbox is host uid 65534, as on
 * Docker, not host root inside a user namespace), and bwrap resolves bind sources with that
 * uid's rights. A grant under a directory it cannot search would fail inside bwrap with a bare
 * "Permission denied"; this finds it first so the refusal can say what to change.
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The first directory on the way to `path` (itself excluded) that `uid` (with gid == uid and no
 * supplementary groups, as setpriv --clear-groups leaves it) cannot search, or undefined.
 * ACLs are not read: a directory reachable only through an ACL is reported as unreachable,
 * which refuses the run rather than letting bwrap fail obscurely.
 */
export function unreachableFor(path: string, uid: number): string | undefined {
  const chain: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === "/") break;
  }
  for (const dir of chain) {
    const stat = statSync(dir);
    const bits = stat.uid === uid ? 0o100 : stat.gid === uid ? 0o010 : 0o001;
    if ((stat.mode & bits) === 0) return dir;
  }
  return undefined;
}
