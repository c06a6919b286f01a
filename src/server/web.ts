import { webAssets } from "../../ui/web/assets.ts" with { type: "macro" };
import { HttpError } from "./http.ts";

/**
 * The web dashboard (ui/web), inlined at build time by a Bun macro: the compiled binary serves
 * it without any file on disk, and `bun src/main.ts` builds it from source the same way.
 */
const ASSETS = webAssets();

interface Asset {
  body: string;
  type: string;
}

/**
 * The dashboard's public paths. They hold no data (the page fetches everything with its
 * session), so they need no credentials; every API route still goes through the router's checks.
 */
const FILES: ReadonlyMap<string, Asset> = new Map([
  ["/", { body: ASSETS.html, type: "text/html; charset=utf-8" }],
  ["/app.js", { body: ASSETS.js, type: "text/javascript; charset=utf-8" }],
  ["/app.css", { body: ASSETS.css, type: "text/css; charset=utf-8" }],
  ["/favicon.svg", { body: ASSETS.icon, type: "image/svg+xml" }],
]);

/** The static paths the server answers besides the API (for docs and tests). */
export const WEB_PATHS: readonly string[] = [...FILES.keys()];

/**
 * A dashboard file for a GET or HEAD of one of its paths, or undefined for any other path
 * (the router answers those). Other methods on these paths are 405.
 */
export function webAsset(request: Request, pathname: string): Response | undefined {
  const file = FILES.get(pathname);
  if (!file) return undefined;
  if (request.method !== "GET" && request.method !== "HEAD") throw new HttpError(405, "method-not-allowed", `${request.method} is not allowed here`, { headers: { Allow: "GET, HEAD" } });
  return new Response(request.method === "HEAD" ? null : file.body, { headers: { "Content-Type": file.type } });
}
