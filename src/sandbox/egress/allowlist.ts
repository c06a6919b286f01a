/**
 * A run's egress allowlist: its granted `net.outbound` scopes, matched with the policy's own
 * scope matcher so wildcards, default ports, IDN and IP-literal spellings behave exactly as
 * they did when the run was decided.
 */
import { parseRequestedScope, parseScope, scopeCovers, type Scope } from "../../policy/index.ts";
import { AegisError } from "../../shared/index.ts";

/** A destination as the proxy understood it: a normalised host and a port. */
export interface Destination {
  /** Lower-case punycode name, dotted-quad IPv4 or compressed IPv6 (no brackets). */
  host: string;
  hostKind: "domain" | "ipv4" | "ipv6";
  port: number;
  /** `net.outbound:<host>:<port>` in canonical form. */
  scope: string;
}

/** Matches destinations and addresses against a run's granted net.outbound scopes. */
export class Allowlist {
  private readonly grants: Scope[];

  /** Throws bad-input when a text is not a net.outbound grant; an empty list allows nothing. */
  constructor(texts: readonly string[]) {
    this.grants = texts.map((text) => {
      const scope = parseScope(text);
      if (scope.kind !== "net.outbound") throw new AegisError("bad-input", `egress allowlist entry ${scope.text} is not a net.outbound scope`);
      return scope;
    });
  }

  /** The canonical grant texts. */
  get entries(): string[] {
    return this.grants.map((grant) => grant.text);
  }

  /** The grant covering `destination`, if any. */
  grantFor(destination: Destination): string | undefined {
    const requested = parseRequestedScope(destination.scope);
    return this.grants.find((grant) => scopeCovers(grant, requested))?.text;
  }

  /**
   * The grant that names this IP address itself (with the port): only such a grant lets the
   * proxy connect to a loopback, private, link-local or metadata address.
   */
  addressGrant(address: string, port: number): string | undefined {
    const literal = address.includes(":") ? `[${address}]` : address;
    let requested: Scope;
    try {
      requested = parseRequestedScope(`net.outbound:${literal}:${port}`);
    } catch {
      return undefined;
    }
    return this.grants.find((grant) => grant.hostKind !== "domain" && scopeCovers(grant, requested))?.text;
  }
}

/**
 * Parses `host:port` (CONNECT authority, or an absolute URI's authority with its default port
 * filled in) with the scope grammar's request rules. Throws bad-input for anything else,
 * including user info, wildcards and ports out of range.
 */
export function parseDestination(authority: string): Destination {
  const scope = parseRequestedScope(`net.outbound:${authority}`);
  if (scope.host === undefined || scope.hostKind === undefined || scope.port === undefined) {
    throw new AegisError("bad-input", `"${authority}" is not a host and port`);
  }
  return { host: scope.host, hostKind: scope.hostKind, port: scope.port, scope: scope.text };
}
