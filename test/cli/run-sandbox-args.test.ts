import { expect, test } from "bun:test";
import { rewriteRunSandbox } from "../../src/cli/run-sandbox-args.ts";

test("run-sandbox args: IMAGE CMD... becomes run --image IMAGE -- CMD, flags inside CMD untouched", () => {
  expect(rewriteRunSandbox(["sandbox", "run-sandbox", "img", "sh", "-c", "echo --json"])).toEqual(["run", "--image", "img", "--", "sh", "-c", "echo --json"]);
  expect(rewriteRunSandbox(["sandbox", "run-sandbox", "--scope", "shell.exec", "--json", "img", "echo"])).toEqual([
    "run", "--scope", "shell.exec", "--json", "--image", "img", "--", "echo",
  ]);
  expect(rewriteRunSandbox(["sandbox", "run-sandbox", "--runtime", "gvisor", "img", "uname"])).toEqual(["run", "--runtime", "gvisor", "--image", "img", "--", "uname"]);
  expect(rewriteRunSandbox(["sandbox", "run-sandbox"])).toEqual(["run", "--"]);
  expect(rewriteRunSandbox(["run", "--", "echo"])).toEqual(["run", "--", "echo"]);
});
