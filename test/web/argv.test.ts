import { expect, test } from "bun:test";
import { splitArgv } from "../../ui/web/src/argv.ts";

test("web argv: words split like a POSIX shell splits them, with quotes and escapes", () => {
  expect(splitArgv("sh -c 'echo AKIA; echo visible-output'")).toEqual(["sh", "-c", "echo AKIA; echo visible-output"]);
  expect(splitArgv(`echo "a \\"b\\" \\$HOME" 'it'\\''s' x\\ y ""`)).toEqual(["echo", 'a "b" $HOME', "it's", "x y", ""]);
  expect(splitArgv("  ls   -la\t/tmp  ")).toEqual(["ls", "-la", "/tmp"]);
  expect(splitArgv("")).toEqual([]);
});

test("web argv: nothing is expanded (variables, globs, pipes and substitutions stay literal words)", () => {
  expect(splitArgv("echo $HOME * | wc $(id) `id` ; rm")).toEqual(["echo", "$HOME", "*", "|", "wc", "$(id)", "`id`", ";", "rm"]);
});

test("web argv: unclosed quotes and a trailing backslash are errors, not guesses", () => {
  expect(() => splitArgv("echo 'open")).toThrow("unclosed single quote");
  expect(() => splitArgv('echo "open')).toThrow("unclosed double quote");
  expect(() => splitArgv("echo \\")).toThrow("lone backslash");
});
