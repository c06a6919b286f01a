import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created: string[] = [];
// Cleanup at process exit rather than in afterAll: tempDir() is also called inside hooks,
// where a newly registered afterAll would not run at the end of the file.
process.on("exit", () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** Creates a fresh temporary directory (mode 0700), removed when the test process exits. */
export function tempDir(prefix = "aegisclaw-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
