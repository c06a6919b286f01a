/**
 * The web dashboard's files, for the server to embed. This is a Bun macro: the server imports
 * it `with { type: "macro" }`, so it runs while the server module is bundled or transpiled —
 * by `bun build --compile` for dist/aegisclaw, and by Bun's runtime transpiler under
 * `bun src/main.ts` and `bun test` — and its result is inlined into the server as string
 * literals. One code path for the compiled binary and for running from source, and nothing
 * generated to commit or to forget to rebuild.
 *
 * The browser code (ui/web/src, TypeScript) is bundled with `bun build` in a child process:
 * Bun refuses `Bun.build()` inside a macro (the bundler would wait for itself).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The dashboard: one page, one script, one stylesheet, one icon; nothing from anywhere else. */
export interface WebAssets {
  html: string;
  js: string;
  css: string;
  icon: string;
}

/** Reads the static files and bundles the browser code. Throws (failing the build) if the bundle does not build. */
export function webAssets(): WebAssets {
  const dir = import.meta.dir;
  const built = Bun.spawnSync([process.execPath, "build", join(dir, "src", "main.ts"), "--target=browser", "--format=esm", "--minify"], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1" },
  });
  if (built.exitCode !== 0) throw new Error(`ui/web: bun build failed:\n${built.stderr.toString()}`);
  const js = built.stdout.toString();
  if (js.trim() === "") throw new Error("ui/web: bun build produced an empty bundle");
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return { html: read("index.html"), js, css: read("app.css"), icon: read("favicon.svg") };
}
