import { expect } from "bun:test";

/** Local base image built by scripts/build-base-image.sh (no registry exists here). */
export const BASE_IMAGE = process.env.AEGISCLAW_BASE_IMAGE ?? "aegisclaw/base:busybox";

/**
 * Fails loudly (never skips) when the Docker engine is not reachable: CI always starts it,
 * and a silently skipped sandbox suite would hide a broken security boundary.
 */
export async function requireDocker(): Promise<void> {
  const probe = Bun.spawnSync(["docker", "info", "--format", "{{.ServerVersion}}"], { stdout: "pipe", stderr: "pipe" });
  expect(probe.exitCode, `Docker engine not reachable; run scripts/start-docker.sh first:\n${probe.stderr.toString()}`).toBe(0);
  const image = Bun.spawnSync(["docker", "image", "inspect", BASE_IMAGE], { stdout: "pipe", stderr: "pipe" });
  expect(image.exitCode, `base image ${BASE_IMAGE} missing; run scripts/build-base-image.sh`).toBe(0);
}
