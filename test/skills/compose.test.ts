/** docker-compose skills without Docker: the compose subset, the manifest's per-service rules, signing, the run plan. */
import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKey, loadManifest, parseManifest, planSkillRun, signManifest, verifyManifest, type InstalledSkill } from "../../src/skills/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

const FIXTURE = join(import.meta.dir, "..", "fixtures", "skills", "web-pair");
const MANIFEST = readFileSync(join(FIXTURE, "manifest.yaml"), "utf8");
const COMPOSE = readFileSync(join(FIXTURE, "compose.yaml"), "utf8");
const IMAGE = `sha256:${"e".repeat(64)}`;

/** The bad-input message for a manifest/compose pair (the test fails when it is accepted). */
function errorOf(manifest: string, compose: string): string {
  try {
    parseManifest(manifest, "web-pair/manifest.yaml", { text: compose, file: "web-pair/compose.yaml" });
  } catch (error) {
    expect(isAegisError(error, "bad-input")).toBe(true);
    return (error as Error).message;
  }
  throw new Error("the skill was accepted");
}

function installed(manifest = MANIFEST, compose = COMPOSE): InstalledSkill {
  const parsed = parseManifest(manifest, "manifest.yaml", { text: compose, file: "compose.yaml" });
  return { name: "web-pair", dir: "/nowhere", parsed, record: { name: "web-pair", version: "1.0.0", imageId: IMAGE, image: parsed.manifest.image, installedAt: new Date(0).toISOString(), source: "/src" } };
}

describe("docker-compose skills", () => {
  test("compose: the fixture parses: services, their scopes, and the compose data under $compose in the signed data", () => {
    const parsed = loadManifest(FIXTURE);
    expect(parsed.manifest.platform).toBe("docker-compose");
    expect(Object.keys(parsed.compose?.services ?? {})).toEqual(["server", "client"]);
    expect(parsed.compose?.services.server).toEqual({ command: ["/skill/serve", "{site}"], environment: { GREETING: "served-by-server" }, dependsOn: [] });
    expect(parsed.compose?.services.client?.dependsOn).toEqual(["server"]);
    expect(parsed.signed.$compose).toEqual({ services: { server: { command: ["/skill/serve", "{site}"], environment: { GREETING: "served-by-server" } }, client: { depends_on: ["server"] } } });
  });

  test("compose: refused keys and broken files are named by file:line: service.key, with why", () => {
    const server = (extra: string) => COMPOSE.replace("      GREETING: served-by-server\n", `      GREETING: served-by-server\n${extra}`);
    const cases: Array<[string, string]> = [
      [server("    privileged: true\n"), "web-pair/compose.yaml:7: services.server.privileged: privileged is refused: no service is privileged"],
      [server("    volumes: [/etc:/etc]\n"), "web-pair/compose.yaml:7: services.server.volumes: volumes is refused: host paths come only from the service's files.* scopes"],
      [server('    ports: ["8080:8080"]\n'), "web-pair/compose.yaml:7: services.server.ports: ports is refused"],
      [server("    network_mode: host\n"), "web-pair/compose.yaml:7: services.server.network_mode: network_mode is refused"],
      [server("    image: alpine\n"), "web-pair/compose.yaml:7: services.server.image: image is refused: every service runs the skill's own signed image"],
      [server("    build: .\n"), "web-pair/compose.yaml:7: services.server.build: build is refused"],
      [server("    cap_add: [NET_ADMIN]\n"), "web-pair/compose.yaml:7: services.server.cap_add: cap_add is refused"],
      [server("    user: root\n"), "web-pair/compose.yaml:7: services.server.user: user is refused"],
      [server("    healthcheck: {test: [CMD, true]}\n"), "web-pair/compose.yaml:7: services.server.healthcheck: healthcheck is not supported"],
      [`${COMPOSE}volumes:\n  data: {}\n`, "web-pair/compose.yaml:10: volumes: volumes is not supported"],
      [COMPOSE.replace("[/skill/serve, \"{site}\"]", '"/skill/serve {site}"'), "web-pair/compose.yaml:4: services.server.command: expected a list of strings (argv)"],
      [COMPOSE.replace("[/skill/serve, \"{site}\"]", "[serve]"), "web-pair/compose.yaml:4: services.server.command.0: the program must be an absolute path"],
      [COMPOSE.replace("      GREETING: served-by-server", "      PATH: /evil"), "web-pair/compose.yaml:6: services.server.environment.PATH: PATH is set by the sandbox"],
      [COMPOSE.replace("depends_on: [server]", "depends_on: [database]"), "web-pair/compose.yaml:8: services.client.depends_on.0: database is not a service of this file"],
      [COMPOSE.replace("depends_on: [server]", "depends_on: [client]"), "web-pair/compose.yaml:8: services.client.depends_on.0: client cannot depend on itself"],
      [server("    depends_on: [client]\n"), "web-pair/compose.yaml:7: services.server.depends_on: dependency cycle: server -> client -> server"],
      [COMPOSE.replace("[/skill/serve, \"{site}\"]", "[/skill/fetch, \"{site}\"]"), "web-pair/compose.yaml:4: services.server.command.0: program /skill/fetch is not allowed by a scope of service server"],
      [COMPOSE.replace("[/skill/serve, \"{site}\"]", "[/skill/serve, \"{inbox}\"]"), "web-pair/compose.yaml:4: services.server.command.1: {inbox} is not a path parameter of service server's scopes"],
      [`${COMPOSE}  extra:\n    command: [/skill/serve]\n`, "web-pair/compose.yaml:10: services.extra: service extra has no entry under services in web-pair/manifest.yaml"],
      [COMPOSE.replace("    command: [/skill/serve, \"{site}\"]\n", ""), "web-pair/compose.yaml:4: services.server: service server runs beside command fetch (through depends_on) but has no command"],
      ["services: [unclosed\n", "web-pair/compose.yaml:"],
    ];
    for (const [compose, expected] of cases) expect(errorOf(MANIFEST, compose)).toStartWith(expected);
  });

  test("compose: the manifest's per-service rules are named by manifest file:line: field", () => {
    const cases: Array<[string, string]> = [
      [MANIFEST.replace("commands:\n", "  worker:\n    scopes: []\ncommands:\n"), "web-pair/manifest.yaml:22: services.worker: service worker is not in web-pair/compose.yaml"],
      [MANIFEST.replace('    scopes: [shell.exec:/skill/serve, "files.read:{site}"]', '    scopes: [shell.exec:/skill/serve, "files.write:{site}"]'), "web-pair/manifest.yaml:18: services.server.scopes.1: files.write:{site} is not one of the skill's scopes"],
      [MANIFEST.replace("    args: [/skill/fetch,", "    args: [/skill/serve,"), "web-pair/manifest.yaml:25: commands.fetch.args.0: program /skill/serve is not allowed by a scope of service client"],
      [MANIFEST.replace("    service: client\n    args: [/skill/fetch", "    service: database\n    args: [/skill/fetch"), "web-pair/manifest.yaml:24: commands.fetch.service: database is not one of the skill's services"],
      [MANIFEST.replace("    service: client\n    args: [/skill/fetch", "    args: [/skill/fetch"), "web-pair/manifest.yaml:23: commands.fetch.service: a docker-compose command names the service it runs in"],
      [MANIFEST.replace("    service: client\n    args: [/skill/reach]", "    service: client\n    scopes: [shell.exec:/skill/reach]\n    args: [/skill/reach]"), "web-pair/manifest.yaml:29: commands.reach.scopes: a docker-compose command gets its service's scopes"],
      [MANIFEST.replace('    scopes: [shell.exec:/skill/serve, "files.read:{site}"]', '    scopes: [shell.exec:/skill/serve, "files.read:{site}", "net.outbound:example.com:443"]'), "web-pair/manifest.yaml:18: services.server.scopes.2: net.outbound:example.com:443 is not one of the skill's scopes"],
      [MANIFEST.replace("compose_file: compose.yaml", "compose_file: ../compose.yaml"), "web-pair/manifest.yaml:8: compose_file: expected a relative path inside the skill directory"],
      [MANIFEST.replace("compose_file: compose.yaml", "compose_file: /etc/compose.yaml"), "web-pair/manifest.yaml:8: compose_file: expected a relative path inside the skill directory"],
      [MANIFEST.replace("compose_file: compose.yaml\n", ""), "web-pair/manifest.yaml:3: compose_file: a docker-compose skill names its compose file"],
      [MANIFEST.replace("platform: docker-compose", "platform: docker"), "web-pair/manifest.yaml:8: compose_file: only for platform docker-compose"],
    ];
    for (const [manifest, expected] of cases) expect(errorOf(manifest, COMPOSE)).toStartWith(expected);
  });

  test("compose: compose_file cannot leave the skill directory through a symlink, and must exist", () => {
    const outside = join(tempDir(), "compose.yaml");
    writeFileSync(outside, COMPOSE);
    const dir = join(tempDir(), "web-pair");
    cpSync(FIXTURE, dir, { recursive: true });
    const load = () => {
      try {
        loadManifest(dir);
      } catch (error) {
        expect(isAegisError(error, "bad-input")).toBe(true);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    mkdirSync(join(dir, "sub"));
    symlinkSync(outside, join(dir, "sub", "linked.yaml"));
    writeFileSync(join(dir, "manifest.yaml"), MANIFEST.replace("compose_file: compose.yaml", "compose_file: sub/linked.yaml"));
    expect(load()).toBe(`${join(dir, "manifest.yaml")}: compose_file: sub/linked.yaml leads outside the skill directory (through a symlink)`);
    writeFileSync(join(dir, "manifest.yaml"), MANIFEST.replace("compose_file: compose.yaml", "compose_file: missing.yaml"));
    expect(load()).toBe(`${join(dir, "manifest.yaml")}: compose_file: missing.yaml does not exist`);
  });

  test("compose: the signature covers the compose file: changing a service's command makes it invalid", () => {
    const key = generateKey();
    const parsed = installed().parsed;
    const signature = signManifest(parsed.signed, IMAGE, key);
    const trusted = [{ name: "acme", keyId: key.keyId, publicKey: signature.publicKey, addedAt: new Date(0).toISOString() }];
    const signedManifest = `${MANIFEST}signature:\n${Object.entries(signature).map(([k, v]) => `  ${k}: "${v}"`).join("\n")}\n`;
    expect(verifyManifest(installed(signedManifest).parsed, IMAGE, trusted).status).toBe("valid");
    const tampered = installed(signedManifest, COMPOSE.replace('[/skill/serve, "{site}"]', '[/skill/serve, "{site}", --evil]'));
    expect(verifyManifest(tampered.parsed, IMAGE, trusted)).toMatchObject({ status: "invalid" });
    const otherEnv = installed(signedManifest, COMPOSE.replace("served-by-server", "changed"));
    expect(verifyManifest(otherEnv.parsed, IMAGE, trusted).status).toBe("invalid");
  });

  test("compose run plan: the main service's scopes, and each sidecar with only its own scopes, bound", () => {
    const plan = planSkillRun(installed(), { status: "unsigned", reason: "none" }, "fetch", ["extra"], { site: "/data/site", inbox: "/data/inbox" });
    expect(plan.argv).toEqual(["/skill/fetch", "/data/inbox", "extra"]);
    expect(plan.grants).toEqual(["shell.exec:/skill/fetch", "shell.exec:/skill/reach", "shell.exec:/skill/hold", "files.read:/data/inbox"]);
    expect(plan.service).toBe("client");
    expect(plan.services).toEqual([{ name: "server", argv: ["/skill/serve", "/data/site"], grants: ["shell.exec:/skill/serve", "files.read:/data/site"], env: { GREETING: "served-by-server" } }]);
    expect(() => planSkillRun(installed(), { status: "unsigned", reason: "none" }, "fetch", [], { inbox: "/data/inbox" })).toThrow("bind it with --path site=DIR");
    const hold = planSkillRun(installed(), { status: "unsigned", reason: "none" }, "hold", [], { site: "/s", inbox: "/i" });
    expect(hold.env).toEqual({ HOLD_FOR: "release" });
  });

  test("compose run plan: net.outbound and secrets.read go to the service that lists them, and to no other", () => {
    const manifest = MANIFEST.replace("  - files.read:{inbox}\n", "  - files.read:{inbox}\n  - net.outbound:api.example.com:443\n  - secrets.read:API_TOKEN\n").replace(
      '    scopes: [shell.exec:/skill/serve, "files.read:{site}"]',
      '    scopes: [shell.exec:/skill/serve, "files.read:{site}", "net.outbound:api.example.com:443", "secrets.read:API_TOKEN"]',
    );
    const plan = planSkillRun(installed(manifest), { status: "unsigned", reason: "none" }, "fetch", [], { site: "/data/site", inbox: "/data/inbox" });
    expect(plan.grants).toEqual(["shell.exec:/skill/fetch", "shell.exec:/skill/reach", "shell.exec:/skill/hold", "files.read:/data/inbox"]);
    expect(plan.services?.[0]?.grants).toEqual(["shell.exec:/skill/serve", "files.read:/data/site", "net.outbound:api.example.com:443", "secrets.read:API_TOKEN"]);
  });
});
