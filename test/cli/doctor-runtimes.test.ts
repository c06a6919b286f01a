import { beforeAll, expect, test } from "bun:test";
import { checkRuntimes } from "../../src/doctor/runtimes.ts";
import { requireDocker } from "../helpers/docker.ts";

beforeAll(requireDocker);

test("doctor runtimes: lists what the engine registered and which AegisClaw can use", async () => {
  const check = await checkRuntimes("/var/run/docker.sock");
  expect(check.status).toBe("pass");
  // scripts/setup.sh registers runsc, so both of AegisClaw's runtimes are usable here.
  expect(check.message).toContain("usable with --runtime: ");
  expect(check.message).toContain("docker (runc)");
  expect(check.message).toContain("gvisor (runsc)");
});

test("doctor runtimes: an unreachable engine is a warning with a fix, not a crash", async () => {
  expect(await checkRuntimes("/nonexistent/docker.sock")).toMatchObject({ id: "runtimes", status: "warn", fix: "start Docker first" });
});
