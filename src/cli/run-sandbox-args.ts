/** Options of `run` that take a value, so their value is not mistaken for the image. */
const VALUE_OPTIONS = new Set(["--scope", "--image", "--timeout", "--runtime"]);

/**
 * `sandbox run-sandbox [options] IMAGE CMD...` (the original tool's spelling) becomes
 * `run [options] --image IMAGE -- CMD...`, so that flags inside CMD (`sh -c ...`) are never
 * parsed as AegisClaw options and both spellings share one code path.
 */
export function rewriteRunSandbox(argv: string[]): string[] {
  if (argv[0] !== "sandbox" || argv[1] !== "run-sandbox") return argv;
  const options: string[] = [];
  let index = 2;
  while (index < argv.length) {
    const arg = argv[index] ?? "";
    if (arg === "--") {
      index++;
      break;
    }
    if (!arg.startsWith("-")) break;
    options.push(arg);
    if (VALUE_OPTIONS.has(arg) && index + 1 < argv.length) options.push(argv[++index] ?? "");
    index++;
  }
  const image = argv[index];
  const command = argv.slice(index + 1);
  if (image === undefined) return ["run", ...options, "--"];
  return ["run", ...options, "--image", image, "--", ...command];
}
