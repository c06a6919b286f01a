import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { startServer, tokensFile } from "../../src/server/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { firstLine } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { tempHome } from "./helpers.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

describe("aegisclaw serve", () => {
  test("serve: prints its URL, serves, and stops cleanly on SIGINT", async () => {
    const { home } = await tempHome();
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0", "--json"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const { url } = JSON.parse(await firstLine(proc.stdout)) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/status`)).status).toBe(401);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain(`listening on ${url}`);
    expect(stderr).toContain("no API token exists yet");
    expect(stderr).toContain("stopping");
  });

  test("serve: a non-loopback bind without TLS or --insecure is refused (exit 64); --cert without --key too", async () => {
    const { home } = await tempHome();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home };
    for (const args of [["--host", "0.0.0.0"], ["--cert", "/nonexistent.pem"], ["--port", "70000"], ["--origin", "*"]]) {
      const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0", ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      expect(await proc.exited, args.join(" ")).toBe(64);
    }
  });

  test("serve: --insecure on a non-loopback address warns loudly", async () => {
    const { home, config } = await tempHome();
    const app = createApp(home, { config });
    const logs: string[] = [];
    const server = await startServer(app, { host: "0.0.0.0", port: 0, insecure: true, log: (line) => logs.push(line) });
    try {
      expect(logs.join("\n")).toContain("UNENCRYPTED");
    } finally {
      await server.stop();
      await app.close();
    }
  });

  test("serve: an unreadable token store fails closed: every credential gets 503, liveness stays up", async () => {
    const { home, config } = await tempHome();
    const app = createApp(home, { config });
    const server = await startServer(app, { port: 0, log: () => {} });
    try {
      writeFileSync(tokensFile(app.layout.state), "{ broken", { mode: 0o600 });
      const response = await fetch(`${server.url}/api/v1/status`, { headers: { Authorization: `Bearer acw_${"0".repeat(12)}_${"0".repeat(64)}` } });
      expect(response.status).toBe(503);
      expect(await response.text()).not.toContain(home);
      expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
    } finally {
      await server.stop();
      await app.close();
    }
  });

  test("serve: with --cert/--key it speaks HTTPS only and sends HSTS", async () => {
    const dir = tempDir();
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdout: "pipe", stderr: "pipe" });
    expect(made.exitCode, made.stderr.toString()).toBe(0);
    const { home, config } = await tempHome();
    const app = createApp(home, { config });
    const server = await startServer(app, { port: 0, tls: { certFile: cert, keyFile: key }, log: () => {} });
    try {
      expect(server.url).toStartWith("https://");
      const response = await fetch(`${server.url}/api/v1/health`, { tls: { rejectUnauthorized: false } });
      expect(response.status).toBe(200);
      expect(response.headers.get("strict-transport-security")).toContain("max-age");
      let plain: unknown;
      try {
        await fetch(server.url.replace("https", "http") + "/api/v1/health");
      } catch (error) {
        plain = error;
      }
      expect(plain).toBeDefined();
    } finally {
      await server.stop();
      await app.close();
    }
    let missing: unknown;
    try {
      await startServer(app, { port: 0, tls: { certFile: join(dir, "nope.pem"), keyFile: key } });
    } catch (error) {
      missing = error;
    }
    expect(isAegisError(missing, "bad-input")).toBe(true);
  });
});
