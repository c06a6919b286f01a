import { AegisError } from "../shared/index.ts";
import { authenticate, checkCsrf, checkOrigin, type AuthDeps, type Identity } from "./auth.ts";
import type { ServerContext } from "./context.ts";
import { HttpError } from "./http.ts";
import { roleAllows, ROUTE_ACCESS, type RouteKey } from "./rbac.ts";
import type { Route } from "./route.ts";
import { readBody, readQuery } from "./validate.ts";

interface Compiled {
  route: Route;
  method: string;
  segments: string[];
  /** Literal segments count: the more literal, the more specific. */
  literals: number;
}

/** What the dispatcher needs besides the routes. */
export interface DispatchOptions {
  auth: AuthDeps;
  /** Origins whose pages may call the API (the server's own, plus --origin). */
  allowedOrigins: ReadonlySet<string>;
  maxBodyBytes: number;
}

/**
 * Matches requests to routes and runs the checks every route shares, in this order: route
 * exists (404/405) -> Origin allowed -> authenticated -> CSRF (browser sessions) -> role ->
 * query and body valid -> handler. No route can skip a check: they live here, not in handlers.
 */
export class Router {
  private readonly compiled: Compiled[];

  /** Throws when the routes and the RBAC table disagree: a route without a role never serves. */
  constructor(readonly routes: readonly Route[]) {
    const keys = routes.map((r) => r.key);
    const duplicate = keys.find((key, index) => keys.indexOf(key) !== index);
    if (duplicate) throw new AegisError("internal", `route ${duplicate} is declared twice`);
    const missing = (Object.keys(ROUTE_ACCESS) as RouteKey[]).filter((key) => !keys.includes(key));
    if (missing.length > 0) throw new AegisError("internal", `routes in the RBAC table without a handler: ${missing.join(", ")}`);
    const unknown = keys.filter((key) => !(key in ROUTE_ACCESS));
    if (unknown.length > 0) throw new AegisError("internal", `routes without an RBAC entry: ${unknown.join(", ")}`);
    this.compiled = routes
      .map((route) => {
        const [method = "", path = ""] = route.key.split(" ");
        const segments = path.split("/").filter(Boolean);
        return { route, method, segments, literals: segments.filter((s) => !s.startsWith("{")).length };
      })
      .sort((a, b) => b.literals - a.literals);
  }

  /** The route for a method and path, or the methods the path does allow (405), or nothing (404). */
  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | { allow: string[] } | undefined {
    const parts = pathname.split("/").filter(Boolean);
    const allow: string[] = [];
    for (const candidate of this.compiled) {
      const params = matchSegments(candidate.segments, parts);
      if (!params) continue;
      if (candidate.method === method) return { route: candidate.route, params };
      allow.push(candidate.method);
    }
    return allow.length > 0 ? { allow } : undefined;
  }

  /** Runs one request through the shared checks and its handler. Throws HttpError / AegisError for the caller to map. */
  async dispatch(request: Request, address: string, ctx: ServerContext, options: DispatchOptions): Promise<Response | undefined> {
    const url = new URL(request.url);
    const found = this.match(request.method, url.pathname);
    if (!found) throw new HttpError(404, "not-found", `no route ${request.method} ${url.pathname.slice(0, 200)}`, { hint: "see GET /api/v1/openapi.json" });
    if ("allow" in found) throw new HttpError(405, "method-not-allowed", `${request.method} is not allowed here`, { headers: { Allow: found.allow.join(", ") } });
    const { route, params } = found;
    checkOrigin(request, options.allowedOrigins);
    const access = ROUTE_ACCESS[route.key];
    let identity: Identity | undefined;
    if (access !== "public") {
      identity = authenticate(request, address, options.auth);
      checkCsrf(request, identity, options.allowedOrigins, route.kind === "websocket");
      if (!roleAllows(identity.role, access)) {
        throw new HttpError(403, "forbidden", `${route.key} needs the ${access} role; this token (${identity.name}) is ${identity.role}`);
      }
    }
    const query = route.query ? readQuery(url, route.query) : undefined;
    const body = route.body ? await readBody(request, route.body, options.maxBodyBytes) : undefined;
    return route.handle({ request, params, body, query, identity, address }, ctx);
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] ?? "";
    const got = parts[i] ?? "";
    if (want.startsWith("{")) {
      let value: string;
      try {
        value = decodeURIComponent(got);
      } catch {
        return undefined;
      }
      params[want.slice(1, -1)] = value;
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}
