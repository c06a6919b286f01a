import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { WEB_PATHS } from "../../src/server/web.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { startFixture, tempHome, type ServerFixture } from "../server/helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * The dashboard is inlined into the binary at build time (a Bun macro): the compiled binary,
 * run from an empty directory with no source tree or node_modules next to it, must serve
 * exactly the files the source tree serves.
 */
describe("web dashboard in the compiled binary (scripts/build.sh)", () => {
  let source: ServerFixture;
  let binaryUrl = "";
  let server: ReturnType<typeof Bun.spawn> | undefined;

  beforeAll(async () => {
    await requireDocker();
    const dir = tempDir();
    const binary = join(dir, "aegisclaw");
    const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh"), binary], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    const { home } = await tempHome();
    const empty = join(dir, "empty");
    mkdirSync(empty);
    server = Bun.spawn([binary, "serve", "--port", "0", "--json"], {
      cwd: empty,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    // `serve --json` prints {url, port} on one line once it listens.
    const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the compiled server exited: ${await new Response(server.stderr as ReadableStream<Uint8Array>).text()}`);
      line += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    binaryUrl = (JSON.parse(line) as { url: string }).url;
    source = await startFixture();
  }, 120_000);
  afterAll(async () => {
    server?.kill("SIGTERM");
    await server?.exited;
    await source?.stop();
  });

  test("web: the compiled binary serves every dashboard file byte for byte as the source tree does, with the same headers", async () => {
    for (const path of WEB_PATHS) {
      const [compiled, fromSource] = await Promise.all([fetch(`${binaryUrl}${path}`), fetch(`${source.url}${path}`)]);
      expect(compiled.status, path).toBe(200);
      for (const header of ["content-type", "content-security-policy", "cache-control", "x-content-type-options"]) {
        expect(compiled.headers.get(header), `${path} ${header}`).toBe(fromSource.headers.get(header));
      }
      expect(await compiled.text(), path).toBe(await fromSource.text());
    }
  });
});
