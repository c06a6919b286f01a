import { AegisError } from "../shared/index.ts";

/** Scope kinds of the grammar in DESIGN.md. */
export type ScopeKind = "files.read" | "files.write" | "shell.exec" | "net.outbound" | "secrets.read";
export type Risk = "low" | "medium" | "high" | "critical";

/** A parsed scope such as `shell.exec` or `shell.exec:echo`. */
export interface Scope {
  kind: ScopeKind;
  /** The part after the colon; undefined for a bare kind (`shell.exec`). */
  target: string | undefined;
  /** The scope as written, normalised. */
  text: string;
  risk: Risk;
}

const RISK: Record<ScopeKind, Risk> = {
  "files.read": "medium",
  "files.write": "high",
  "shell.exec": "high",
  "net.outbound": "high",
  "secrets.read": "critical",
};
const KINDS = Object.keys(RISK) as ScopeKind[];
const NEEDS_TARGET: ReadonlySet<ScopeKind> = new Set(["files.read", "files.write", "net.outbound", "secrets.read"]);

/**
 * Kinds whose grant the sandbox can enforce today. The others parse (so typos are still caught)
 * but are refused: a scope the sandbox does not enforce would be a silent hole (issue 6 adds them).
 */
export const ENFORCED_KINDS: ReadonlySet<ScopeKind> = new Set(["shell.exec"]);

/** Parses one scope; throws a bad-input error naming the scope and the fix. */
export function parseScope(text: string): Scope {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  const kindText = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const target = colon === -1 ? undefined : trimmed.slice(colon + 1);
  const kind = KINDS.find((known) => known === kindText);
  if (!kind) {
    throw new AegisError("bad-input", `unknown scope "${text}"`, { hint: `scopes start with one of: ${KINDS.join(", ")}` });
  }
  if (target !== undefined && (target === "" || /[\0\s]/.test(target))) {
    throw new AegisError("bad-input", `scope "${text}" has an empty or malformed target`, {
      hint: `write ${kind}:<target> without spaces, or ${kind} alone where allowed`,
    });
  }
  if (target === undefined && NEEDS_TARGET.has(kind)) {
    throw new AegisError("bad-input", `scope "${text}" needs a target`, { hint: `write ${kind}:<target>` });
  }
  if (kind === "shell.exec" && target !== undefined && target.includes("/") && !target.startsWith("/")) {
    throw new AegisError("bad-input", `scope "${text}": program must be a bare name or an absolute path`);
  }
  return { kind, target, text: target === undefined ? kind : `${kind}:${target}`, risk: RISK[kind] };
}

/** Parses a list of scopes and refuses kinds the sandbox cannot enforce yet. */
export function parseEnforceableScopes(texts: readonly string[]): Scope[] {
  return texts.map((text) => {
    const scope = parseScope(text);
    if (!ENFORCED_KINDS.has(scope.kind)) {
      throw new AegisError("bad-input", `scope "${scope.text}" is valid but the sandbox cannot enforce it yet, so it cannot be granted`, {
        hint: "remove it; this version grants only shell.exec (file, network and secret scopes are not available)",
      });
    }
    return scope;
  });
}

/** True when `granted` covers `requested` (same kind; a bare grant covers any target). */
export function scopeCovers(granted: Scope, requested: Scope): boolean {
  if (granted.kind !== requested.kind) return false;
  return granted.target === undefined || granted.target === requested.target;
}
