import type { z } from "zod";
import { AegisError } from "../shared/index.ts";
import type { Identity } from "./auth.ts";
import type { ServerContext } from "./context.ts";
import type { RouteKey } from "./rbac.ts";

/** One call of a route, after origin, auth, CSRF, role and input checks have passed. */
export interface Call<B = unknown, Q = unknown> {
  request: Request;
  /** Path parameters by name (`{id}` -> `params.id`), URL-decoded. */
  params: Record<string, string>;
  body: B;
  query: Q;
  /** Undefined only on public routes. */
  identity: Identity | undefined;
  /** The client's address (rate limiting). */
  address: string;
}

/** How a route answers: JSON (default), a Server-Sent Events stream, a WebSocket upgrade, or plain text. */
export type RouteKind = "json" | "sse" | "websocket" | "text";

/**
 * A route: its key in the RBAC table, the zod schemas of its input (validated before the
 * handler runs, and published in the OpenAPI document), and its documented responses.
 */
export interface Route<B = unknown, Q = unknown> {
  key: RouteKey;
  summary: string;
  kind?: RouteKind;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  /** Statuses this route itself returns, with what they mean (auth statuses are added for every protected route). */
  responses: Record<number, string>;
  /** The success body's schema: published in the OpenAPI document and checked by the conformance test. */
  result?: z.ZodType;
  handle(call: Call<B, Q>, ctx: ServerContext): Promise<Response | undefined> | Response | undefined;
}

/**
 * Declares a route with typed body and query. The cast erases the type parameters so routes
 * of different shapes share one table; the router validates input with the very schemas that
 * typed the handler, so the handler's view stays true.
 */
export function route<B = undefined, Q = undefined>(spec: Route<B, Q>): Route {
  return spec as unknown as Route;
}

/** The caller of a protected route (the router guarantees one). */
export function caller(call: Call<unknown, unknown>): Identity {
  if (!call.identity) throw new AegisError("internal", "protected route reached without an identity");
  return call.identity;
}

/** The audit actor of an API call: the token's name; source "web" for a browser session, else "api". */
export function actorOf(call: Call<unknown, unknown>): { name: string; source: "api" | "web" } {
  return { name: caller(call).name, source: channelOf(call) };
}

/** Where a call came from: the dashboard (session cookie) or a client with a bearer token. */
export function channelOf(call: Call<unknown, unknown>): "api" | "web" {
  return caller(call).via === "session" ? "web" : "api";
}
