/**
 * File-scope mounts proven from inside a real sandbox: what a grant exposes, what it does not,
 * and that a mount whose symlink changed after the decision never starts.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileMounts, type SandboxMount } from "../../src/sandbox/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { expectNoLeftovers, sh } from "./support.ts";

beforeAll(requireDocker);
afterEach(() => expectNoLeftovers());

/** root/granted (with note.txt), root/sibling/secret.txt; only `granted` is ever mounted. */
function tree() {
  const root = realpathSync(tempDir());
  const granted = join(root, "granted");
  mkdirSync(granted);
  writeFileSync(join(granted, "note.txt"), "hello from the host\n");
  mkdirSync(join(root, "sibling"));
  writeFileSync(join(root, "sibling", "secret.txt"), "HOST-SECRET\n");
  return { root, granted };
}

function mount(path: string, readOnly: boolean): SandboxMount[] {
  return compileMounts([{ scope: `files:${path}`, path, written: path, readOnly }], { home: "/nonexistent/aegisclaw-home", dockerSocket: "/var/run/docker.sock" });
}

describe("docker sandbox file mounts", () => {
  test("mounts: a read-only grant is readable, refuses writes, and shows nothing else of the host", async () => {
    const { root, granted } = tree();
    const run = await sh(`cat ${granted}/note.txt; echo x > ${granted}/new.txt; echo rc=$?; ls ${root}; cat ${granted}/../sibling/secret.txt; echo rc=$?`, { mounts: mount(granted, true) });
    expect(run.stdout).toBe(`hello from the host\nrc=1\ngranted\nrc=1\n`);
    expect(run.stderr).toContain("Read-only file system");
    expect(run.stderr).toContain("No such file or directory");
    expect(existsSync(join(granted, "new.txt"))).toBe(false);
  });

  test("mounts: a files.write grant is writable by uid 65534 when the host directory allows it, and the file appears on the host", async () => {
    const { granted } = tree();
    // AegisClaw never chowns user files: the person granting write access makes the directory writable for 65534.
    chmodSync(granted, 0o777);
    const run = await sh(`echo written-inside > ${granted}/out.txt && id -u`, { mounts: mount(granted, false) });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(granted, "out.txt"), "utf8")).toBe("written-inside\n");
  });

  test("mounts: without host permission for 65534 a files.write grant still cannot write", async () => {
    const { granted } = tree();
    chmodSync(granted, 0o755);
    const run = await sh(`echo x > ${granted}/out.txt`, { mounts: mount(granted, false) });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("Permission denied");
  });

  test("mounts: symlinks inside the grant that point outside it dangle in the sandbox", async () => {
    const { root, granted } = tree();
    symlinkSync(join(root, "sibling", "secret.txt"), join(granted, "absolute"));
    symlinkSync("../sibling/secret.txt", join(granted, "relative"));
    const run = await sh(`cat ${granted}/absolute; cat ${granted}/relative; true`, { mounts: mount(granted, true) });
    expect(run.stdout).not.toContain("HOST-SECRET");
    expect(run.stderr.match(/No such file or directory/g)?.length).toBe(2);
  });

  test("mounts: a mount whose symlink was swapped after compilation is refused before any container exists", async () => {
    const { root, granted } = tree();
    const link = join(root, "link");
    symlinkSync(granted, link);
    const mounts = mount(link, true);
    Bun.spawnSync(["ln", "-sfn", join(root, "sibling"), link]);
    let error: unknown;
    await sh(`cat ${link}/secret.txt`, { mounts }).catch((caught: unknown) => (error = caught));
    expect(isAegisError(error, "denied")).toBe(true);
    expect((error as Error).message).toContain("symlink changed");
  });
});
