/**
 * The rules that tie a docker-compose skill's manifest to its compose file: the same services
 * on both sides, each service's command allowed by that service's own scopes (never another's),
 * and every service some command needs beside it able to run (it has a command).
 */
import { AegisError } from "../shared/index.ts";
import { sidecarsOf, type ComposeFile } from "./compose-file.ts";
import { serviceScopes, type SkillManifest } from "./manifest.ts";
import { PARAMETER_PATTERN } from "./skill-scope.ts";

/** Throws bad-input naming the file (manifest or compose), the line and the field. */
export function checkComposeServices(manifest: SkillManifest, compose: ComposeFile, manifestLine: (path: PropertyKey[]) => number | undefined, manifestFile: string): void {
  const inManifest = (path: PropertyKey[], message: string): never => {
    const line = manifestLine(path);
    throw new AegisError("bad-input", `${manifestFile}${line ? `:${line}` : ""}: ${path.join(".")}: ${message}`, { hint: "see docs/skills.md, \"Multi-container skills\"" });
  };
  const inCompose = (path: Array<string | number>, message: string): never => {
    const line = compose.lineOf(path);
    throw new AegisError("bad-input", `${compose.file}${line ? `:${line}` : ""}: ${path.join(".")}: ${message}`, { hint: "see docs/skills.md, \"Multi-container skills\"" });
  };
  const declared = Object.keys(manifest.services ?? {});
  for (const name of declared) {
    if (!compose.services[name]) inManifest(["services", name], `service ${name} is not in ${compose.file} (services there: ${Object.keys(compose.services).join(", ")})`);
  }
  for (const [name, service] of Object.entries(compose.services)) {
    if (!declared.includes(name)) inCompose(["services", name], `service ${name} has no entry under services in ${manifestFile}: every service's scopes are listed there`);
    const argv = service.command;
    if (argv === undefined) continue;
    const scopes = serviceScopes(manifest, name);
    const program = argv[0] ?? "";
    if (!scopes.some((scope) => scope.program === program)) {
      inCompose(["services", name, "command", 0], `program ${program} is not allowed by a scope of service ${name}; add shell.exec:${program} to services.${name}.scopes in ${manifestFile}`);
    }
    argv.slice(1).forEach((arg, index) => {
      const parameter = PARAMETER_PATTERN.exec(arg)?.[1];
      if (parameter !== undefined && !scopes.some((scope) => scope.parameter === parameter)) {
        inCompose(["services", name, "command", index + 1], `{${parameter}} is not a path parameter of service ${name}'s scopes; add files.read:{${parameter}} (or files.write) to services.${name}.scopes in ${manifestFile}`);
      }
    });
  }
  for (const [command, definition] of Object.entries(manifest.commands)) {
    if (definition.service === undefined) continue;
    for (const sidecar of sidecarsOf(compose, definition.service)) {
      if (compose.services[sidecar]?.command === undefined) {
        inCompose(["services", sidecar], `service ${sidecar} runs beside command ${command} (through depends_on) but has no command`);
      }
    }
  }
}
