import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { consistencyProof, inclusionProof } from "../../src/audit/index.ts";
import { buildLog, freshDir, useTempRoot } from "./helpers.ts";

useTempRoot();

const GO = process.env.AEGISCLAW_GO ?? "/usr/local/go/bin/go";
const VERIFIER = join(import.meta.dir, "go-verifier");

function runVerifier(files: string[], extra: string[] = []) {
  // A missing Go toolchain fails loudly: this is the independent check of our proof format.
  if (!existsSync(GO) && !Bun.which("go")) throw new Error(`Go is required for this test (looked for ${GO}; set AEGISCLAW_GO)`);
  const go = existsSync(GO) ? GO : (Bun.which("go") as string);
  const proc = Bun.spawnSync([go, "run", ".", ...extra, ...files], { cwd: VERIFIER, stdout: "pipe", stderr: "pipe", env: { ...process.env, GOFLAGS: "-mod=mod" } });
  return { code: proc.exitCode, out: proc.stdout.toString() + proc.stderr.toString() };
}

describe("independent Go verifier", () => {
  test("go-verifier: transparency-dev/merkle accepts our inclusion and consistency proofs", async () => {
    const dir = await buildLog(23, { checkpointEvery: 7 });
    const out = freshDir("proofs-");
    const files: string[] = [];
    for (let seq = 1; seq <= 23; seq++) {
      const file = join(out, `inclusion-${seq}.json`);
      writeFileSync(file, JSON.stringify(inclusionProof(dir, seq)));
      files.push(file);
    }
    for (let size = 0; size <= 23; size++) {
      const file = join(out, `consistency-${size}.json`);
      writeFileSync(file, JSON.stringify(consistencyProof(dir, size)));
      files.push(file);
    }
    const pubkey = readFileSync(join(dir, "signing.pub"), "utf8").trim();
    const good = runVerifier(files, ["-pubkey", pubkey]);
    expect(good.out).not.toContain("FAIL");
    expect(good.code, good.out).toBe(0);
    expect(good.out.match(/^OK /gm)?.length).toBe(files.length);

    // And it rejects a forged entry line, a wrong path element and a wrong old root.
    const forged = JSON.parse(readFileSync(files[4] as string, "utf8"));
    forged.line = forged.line.replace("entry number", "entry Number");
    const badPath = JSON.parse(readFileSync(files[9] as string, "utf8"));
    badPath.auditPath[0] = badPath.auditPath[0].replace(/^./, (c: string) => (c === "0" ? "1" : "0"));
    const badOld = JSON.parse(readFileSync(files[23 + 5] as string, "utf8"));
    badOld.oldRoot = "00".repeat(32);
    const tampered = [forged, badPath, badOld].map((doc, i) => {
      const file = join(out, `tampered-${i}.json`);
      writeFileSync(file, JSON.stringify(doc));
      return file;
    });
    const bad = runVerifier(tampered);
    expect(bad.code).toBe(1);
    expect(bad.out.match(/^FAIL /gm)?.length).toBe(3);
  }, 120_000);
});
