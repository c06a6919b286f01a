import { z } from "zod";
import { ROUTE_ACCESS } from "./rbac.ts";
import type { Route } from "./route.ts";
import { ErrorBody } from "./schemas.ts";
import { SESSION_COOKIE } from "./sessions.ts";

type JsonObject = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document, built from the same route table and zod schemas the router
 * enforces: a route cannot exist without being documented, nor be documented differently
 * from how its input is checked.
 */
export function buildOpenApi(routes: readonly Route[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const [method = "", path = ""] = route.key.split(" ");
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operation(route, path);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "AegisClaw API",
      version,
      description: "Every action passes the Gate. Authentication is always on (Bearer token, or a browser session cookie plus X-CSRF-Token); roles: viewer < operator < admin (x-aegisclaw-min-role). See docs/api.md.",
    },
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "`acw_<id>_<secret>` from `aegisclaw token create`." },
        sessionCookie: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: "From POST /api/v1/session; state changes also need X-CSRF-Token and an allowed Origin." },
      },
      schemas: { Error: schemaOf(ErrorBody, "output") },
    },
  };
}

function operation(route: Route, path: string): JsonObject {
  const access = ROUTE_ACCESS[route.key];
  const parameters = [
    ...[...path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } })),
    ...queryParameters(route),
  ];
  return {
    operationId: operationId(route.key),
    summary: route.summary,
    tags: [path.split("/")[3] ?? path.split("/")[1] ?? "api"],
    "x-aegisclaw-min-role": access,
    security: access === "public" ? [] : [{ bearerAuth: [] }, { sessionCookie: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    // An empty body counts as `{}`: it is optional exactly when `{}` is valid.
    ...(route.body ? { requestBody: { required: !route.body.safeParse({}).success, content: { "application/json": { schema: schemaOf(route.body, "input") } } } } : {}),
    responses: responses(route, access === "public"),
  };
}

/** The route's own statuses, plus the ones the shared checks can answer with. */
function responses(route: Route, isPublic: boolean): JsonObject {
  const error = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const out: JsonObject = {};
  for (const [status, description] of Object.entries(route.responses)) {
    const success = Number(status) < 300;
    out[status] = { description, ...(success ? { content: successContent(route) } : Number(status) >= 400 ? { content: error } : {}) };
  }
  const shared: Record<string, string> = {
    403: isPublic ? "Origin not allowed." : "Origin not allowed, CSRF check failed, or the role is too weak.",
    500: "Internal error (details only in the server's log).",
    ...(isPublic ? {} : { 401: "Missing, invalid or revoked credentials.", 429: "Too many failed authentications from this address (Retry-After)." }),
    ...(route.body || route.query ? { 400: "Malformed JSON or invalid input; `error.field` names the field." } : {}),
    ...(route.body ? { 413: "Body too large.", 415: "Body is not application/json." } : {}),
  };
  for (const [status, description] of Object.entries(shared)) out[status] ??= { description, content: error };
  return out;
}

function successContent(route: Route): JsonObject {
  if (route.kind === "sse") return { "text/event-stream": { schema: { type: "string" } } };
  if (route.kind === "text") return { "text/plain": { schema: { type: "string" } } };
  if (route.kind === "websocket") return {};
  return { "application/json": { schema: route.result ? schemaOf(route.result, "output") : { type: "object" } } };
}

function queryParameters(route: Route): JsonObject[] {
  if (!route.query) return [];
  const schema = schemaOf(route.query, "input");
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: "query", required: required.has(name), schema: rest, ...(description ? { description } : {}) };
  });
}

function schemaOf(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonObject;
  return rest;
}

function operationId(key: string): string {
  const words = key
    .replace(/[{}]/g, "")
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word && word !== "api" && word !== "v1");
  return words.map((word, i) => (i === 0 ? word.toLowerCase() : word[0]?.toUpperCase() + word.slice(1).toLowerCase())).join("");
}
