import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildContextTar, lintDockerfile } from "../../src/skills/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

/** `tar -tv` of an archive: checks the bytes are a tar any tool reads. */
function listing(tar: Uint8Array): string[] {
  const file = join(tempDir(), "context.tar");
  writeFileSync(file, tar);
  const listed = Bun.spawnSync(["tar", "-tvf", file, "--numeric-owner"], { stdout: "pipe", stderr: "pipe" });
  expect(listed.exitCode).toBe(0);
  return listed.stdout.toString().trim().split("\n");
}

describe("skill images", () => {
  test("dockerfile: the offline subset passes; anything else is refused with file:line", () => {
    expect(() => lintDockerfile("# a skill\nFROM aegisclaw/base:busybox\nCOPY run /skill/run\nENV A=1 \\\n  B=2\nLABEL x=y\nWORKDIR /skill\n")).not.toThrow();
    const refused: Array<[string, string]> = [
      ["FROM aegisclaw/base:busybox\nRUN wget http://evil\n", "Dockerfile:2: RUN is not allowed"],
      ["FROM busybox:latest\n", "Dockerfile:1: FROM must be exactly aegisclaw/base:busybox"],
      ["FROM aegisclaw/base:busybox AS build\n", "Dockerfile:1: FROM must be exactly"],
      ["FROM aegisclaw/base:busybox\nADD https://example.com/x /x\n", "Dockerfile:2: ADD is not allowed"],
      ["FROM aegisclaw/base:busybox\nCOPY --from=other /x /x\n", "Dockerfile:2: COPY options"],
      ["FROM aegisclaw/base:busybox\nVOLUME /data\n", "Dockerfile:2: VOLUME is not allowed"],
      ["FROM aegisclaw/base:busybox\nFROM aegisclaw/base:busybox\n", "Dockerfile:2: only one FROM"],
      ["# syntax=docker/dockerfile:1\nFROM aegisclaw/base:busybox\n", "Dockerfile:1: parser directives are not allowed"],
      ["COPY x /x\nFROM aegisclaw/base:busybox\n", "Dockerfile:1: the first instruction must be FROM"],
      ["FROM aegisclaw/base:busybox\nCOPY a /a\nRUN \\\n  true\n", "Dockerfile:3: RUN is not allowed"],
      ["# nothing\n", "Dockerfile:1: the Dockerfile has no FROM"],
    ];
    for (const [text, message] of refused) expect(() => lintDockerfile(text)).toThrow(message);
  });

  test("build context: same bytes for the same files, owner root, time zero, normalised modes, no manifest.yaml", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "manifest.yaml"), "name: x\n");
    writeFileSync(join(dir, "Dockerfile"), "FROM aegisclaw/base:busybox\n", { mode: 0o600 });
    writeFileSync(join(dir, "run"), "#!/bin/sh\necho hi\n", { mode: 0o700 });
    mkdirSync(join(dir, "lib"), { mode: 0o700 });
    writeFileSync(join(dir, "lib", "data.txt"), "x".repeat(700));
    const tar = buildContextTar(dir);
    expect(Buffer.from(buildContextTar(dir)).equals(Buffer.from(tar))).toBe(true);
    writeFileSync(join(dir, "manifest.yaml"), "name: x\nsignature: {}\n");
    expect(Buffer.from(buildContextTar(dir)).equals(Buffer.from(tar))).toBe(true);
    const lines = listing(tar);
    expect(lines.map((line) => line.split(/\s+/).pop())).toEqual(["Dockerfile", "lib/", "lib/data.txt", "run"]);
    expect(lines[0]).toStartWith("-rw-r--r-- 0/0");
    expect(lines[1]).toStartWith("drwxr-xr-x 0/0");
    expect(lines[3]).toStartWith("-rwxr-xr-x 0/0");
    expect(lines[0]).toContain("1970-01-01");
  });

  test("build context: a symlink (which could point COPY anywhere) is refused", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "Dockerfile"), "FROM aegisclaw/base:busybox\n");
    symlinkSync("/etc/passwd", join(dir, "passwd"));
    expect(() => buildContextTar(dir)).toThrow("no symlinks");
  });
});
