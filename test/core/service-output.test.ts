import { expect, test } from "bun:test";
import { ServiceOutput } from "../../src/core/service-output.ts";
import { Redactor } from "../../src/redact/index.ts";

const SECRET = "s3cr3t-VALUE-9f2e7a61";
const bytes = (text: string) => new TextEncoder().encode(text);

function collect() {
  const redactor = new Redactor();
  redactor.addSecret("TOKEN", SECRET);
  const lines: string[] = [];
  return { output: new ServiceOutput(redactor, (line) => lines.push(new TextDecoder().decode(line))), lines, redactor };
}

test("service output: a secret split across one service's writes, with another service writing in between, is still redacted", () => {
  const { output, lines, redactor } = collect();
  const db = output.sink("db");
  const cache = output.sink("cache");
  db.stdout(bytes(`token=${SECRET.slice(0, 9)}`));
  cache.stdout(bytes("cache up\n"));
  db.stdout(bytes(`${SECRET.slice(9)} ok\nnext`));
  db.stderr(bytes("warn\n"));
  output.flush();
  expect(lines).toEqual(["[cache] cache up\n", "[db] token=[REDACTED:secret:TOKEN] ok\n", "[db] warn\n", "[db] next\n"]);
  expect(lines.join("")).not.toContain(SECRET.slice(0, 9));
  expect(redactor.counts().total).toBe(1);
});

test("service output: only whole lines go out; a line longer than 16 KiB is cut into pieces, never held forever", () => {
  const { output, lines } = collect();
  const web = output.sink("web");
  web.stdout(bytes("partial"));
  expect(lines).toEqual([]);
  web.stdout(bytes(`${"x".repeat(40 * 1024)}`));
  expect(lines.length).toBe(2);
  expect(lines.every((line) => line.startsWith("[web] ") && line.endsWith("\n"))).toBe(true);
  output.flush();
  expect(lines.length).toBe(3);
  expect(lines.join("").replace(/\[web\] |\n/g, "")).toBe(`partial${"x".repeat(40 * 1024)}`);
});
