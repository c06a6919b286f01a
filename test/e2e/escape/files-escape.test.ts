/** Escape attempts through file scopes, each against the compiled binary and the real engine. */
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { aegis, type CliResult, tempHome, useCompiledBinary } from "../../helpers/cli.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { tempDir } from "../../helpers/temp-home.ts";

useCompiledBinary();

describe("file scope escapes (compiled binary, real Docker)", () => {
  let home: string;
  let dir: string;
  beforeAll(async () => {
    await requireDocker();
    home = tempHome();
    expect((await aegis(home, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
    dir = join(realpathSync(tempDir()), "granted");
    mkdirSync(dir);
    writeFileSync(join(dir, "note.txt"), "note\n");
  });

  const run = (scope: string, ...argv: string[]) => aegis(home, ["run", "--scope", scope, "--", ...argv]);

  test("escape: /etc/shadow through a symlink inside a granted directory is not the host's file", async () => {
    symlinkSync("/etc/shadow", join(dir, "shadow"));
    const result = await run(`files.read:${dir}`, "cat", `${dir}/shadow`);
    expect(result.exitCode).toBe(1);
    // The link resolves inside the sandbox, whose image has no /etc/shadow.
    expect(result.stderr).toContain("No such file or directory");
    const hostFirstLine = readFileSync("/etc/shadow", "utf8").split("\n")[0] ?? "";
    expect(result.stdout).not.toContain(hostFirstLine.slice(0, 10));
    expect(result.stdout).toBe("");
  });

  test("escape: binding .. climbs to a parent that holds the home, or above /, and is refused", async () => {
    const parent = await run(`files.read:${dir}/../..`, "ls", "/tmp");
    expect(parent.exitCode).toBe(65);
    expect(parent.stderr).toContain("[mount.aegisclaw-home]");
    symlinkSync("../..", join(dir, "up"));
    const viaLink = await run(`files.read:${dir}/up`, "ls", "/");
    expect(viaLink.exitCode).toBe(65);
    expect(viaLink.stderr).toContain("[mount.aegisclaw-home]");
    const above = await run("files.read:/..", "ls");
    expect(above.exitCode).toBe(65);
    expect(above.stderr).toContain("climbs above /");
    const root = await run("files.read:/tmp/..", "ls");
    expect(root.exitCode).toBe(65);
    expect(root.stderr).toContain("over-broad");
  });

  test("escape: the Docker socket, its directory or a symlink to it cannot be granted", async () => {
    const socket = await run("files.write:/var/run/docker.sock", "true");
    expect(socket.exitCode).toBe(65);
    expect(socket.stderr).toContain("[mount.docker-socket]");
    symlinkSync("/var/run/docker.sock", join(dir, "engine.sock"));
    const viaLink = await run(`files.read:${dir}/engine.sock`, "true");
    expect(viaLink.exitCode).toBe(65);
    expect(viaLink.stderr).toContain("[mount.docker-socket]");
    expect((await run("files.read:/var/run", "true")).stderr).toContain("[mount.docker-socket]");
  });

  test("escape: $AEGISCLAW_HOME, anything in it or any parent of it cannot be granted", async () => {
    for (const path of [home, join(home, "audit"), dirname(home)]) {
      const result = await run(`files.read:${path}`, "cat", `${home}/config.yaml`);
      expect(`${path}: ${result.exitCode}`).toBe(`${path}: 65`);
      expect(result.stderr).toContain("[mount.aegisclaw-home]");
      expect(result.stdout).toBe("");
    }
  });

  test("escape: writing inside or beside a read-only grant fails and changes nothing on the host", async () => {
    const result = await run(`files.read:${dir}`, "sh", "-c", `echo x > ${dir}/note.txt; echo x > ${dir}/new; echo x > ${dir}/../beside; echo done`);
    expect(result.stdout).toBe("done\n");
    expect(result.stderr.match(/Read-only file system/g)?.length).toBe(2);
    // Beside the mount is the sandbox's own mountpoint directory (root-owned, inside /tmp), not the host's.
    expect(result.stderr).toContain(`can't create ${dir}/../beside: Permission denied`);
    expect(readFileSync(join(dir, "note.txt"), "utf8")).toBe("note\n");
    expect(existsSync(join(dir, "new"))).toBe(false);
    expect(existsSync(join(dirname(dir), "beside"))).toBe(false);
  });
});

describe("file scope escapes: a symlink planted by one run redirects a later grant", () => {
  let workspace: string;
  let planted: CliResult;
  let later: CliResult;
  beforeAll(async () => {
    await requireDocker();
    workspace = join(realpathSync(tempDir()), "workspace");
    mkdirSync(workspace);
    chmodSync(workspace, 0o777);
    // Run 1, an agent's sandbox with write access to the workspace (however it got it; permissive
    // here, so no person is needed): plants a link to the host's /etc.
    const writer = tempHome();
    expect((await aegis(writer, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
    planted = await aegis(writer, ["run", "--scope", `files.write:${workspace}`, "--", "ln", "-s", "/etc", `${workspace}/etc-link`]);
    // Run 2, under the standard template whose config grants the workspace: a read inside it is
    // covered by that grant, so it is allowed without asking anyone.
    const home = tempHome();
    expect((await aegis(home, ["init", "--yes", "--template", "standard"])).exitCode).toBe(0);
    const config = join(home, "config.yaml");
    writeFileSync(config, readFileSync(config, "utf8").replace(/^(\s*grants:).*$/m, `$1 [shell.exec, "files.write:${workspace}"]`).replace("timeout: 120s", "timeout: 5s"));
    later = await aegis(home, ["run", "--scope", `files.read:${workspace}/etc-link`, "--", "cat", `${workspace}/etc-link/hostname`]);
  }, 60_000);

  test("escape: the first run could plant the link (the precondition of the next test)", () => {
    expect(planted.exitCode).toBe(0);
    expect(readlinkSync(join(workspace, "etc-link"))).toBe("/etc");
    // Run 2 was decided and then either ran (0: the escape) or was refused (65/77): never an
    // unrelated failure that would let the test.failing below pass for the wrong reason.
    expect([0, 65, 77]).toContain(later.exitCode);
  });

  // Found by this suite: the grant read as a directory inside the workspace while the mount was
  // the host's /etc. A file scope that resolves elsewhere is now at least high risk and names its
  // real target, so the standard template asks a person (nobody answers here: 77).
  test("escape: a later grant of that link inside the workspace does not expose the host's /etc without a person", () => {
    expect(later.stdout).not.toContain(readFileSync("/etc/hostname", "utf8").trim());
    expect(later.exitCode).toBe(77);
    expect(later.stderr).toContain("approval.expired");
  });
});
