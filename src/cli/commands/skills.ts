import { existsSync } from "node:fs";
import { createApp } from "../../app.ts";
import { homeLayout, loadConfig, requireInitialisedHome, writeFileAtomic } from "../../core/index.ts";
import {
  acquireImage,
  commitInstall,
  discardPlan,
  dockerImages,
  generateKey,
  loadManifest,
  planInstall,
  releaseImage,
  publicKeyPem,
  readPublicKeyFile,
  readSecretKeyFile,
  secretKeyPem,
  signManifest,
  SkillRegistry,
  TrustStore,
  verifyManifest,
  withSignature,
  type InstallDeps,
  type InstallPlan,
  type Verification,
} from "../../skills/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";
import { confirmOnTerminal, describeVerification, printSkillList } from "./skills-view.ts";

type Options = Record<string, unknown>;

const ACTIONS = "list | add DIR | sign DIR --key FILE | verify NAME|DIR | run NAME [COMMAND] [ARGS] | trust add KEYFILE --name N | trust list | trust rm ID | keygen FILE";

/** `skills ACTION`: install, sign, verify, trust, list and run skills (docs/skills.md). */
export async function runSkills(action: string | undefined, args: string[], options: Options, ctx: CliContext): Promise<number> {
  switch (action) {
    case undefined:
    case "list":
      return list(ctx);
    case "add":
      return add(one(args, "add DIR"), options, ctx);
    case "sign":
      return sign(one(args, "sign DIR --key FILE"), options, ctx);
    case "verify":
      return verify(one(args, "verify NAME|DIR"), ctx);
    case "trust":
      return trust(args, options, ctx);
    case "keygen":
      return keygen(one(args, "keygen FILE"), ctx);
    case "run":
      return (await import("./skills-run.ts")).runSkill(args, options, ctx);
    default:
      throw new AegisError("usage", `unknown skills action "${action}"`, { hint: `use: aegisclaw skills [${ACTIONS}]` });
  }
}

function one(args: string[], usage: string): string {
  if (args.length !== 1 || !args[0]) throw new AegisError("usage", `expected: aegisclaw skills ${usage}`);
  return args[0];
}

/** The home's skill registry, trust store and the Docker engine of its config. */
function homeDeps(ctx: CliContext): InstallDeps {
  const layout = homeLayout(ctx.home);
  requireInitialisedHome(layout);
  const config = loadConfig(layout.config);
  const registry = new SkillRegistry(layout.skills);
  return { registry, trust: new TrustStore(registry.trustFile), images: dockerImages(config.sandbox.dockerSocket) };
}

/** The engine for commands that need no home (sign): the home's socket if there is one. */
function engineSocket(ctx: CliContext): string {
  const layout = homeLayout(ctx.home);
  return existsSync(layout.config) ? loadConfig(layout.config).sandbox.dockerSocket : "/var/run/docker.sock";
}

function list(ctx: CliContext): number {
  const { registry, trust } = homeDeps(ctx);
  const trusted = trust.list();
  const skills = registry.list().map((skill) => ({ skill, verification: verifyManifest(skill.parsed, skill.record.imageId, trusted) }));
  printSkillList(skills, ctx);
  return 0;
}

async function add(dir: string, options: Options, ctx: CliContext): Promise<number> {
  const deps = homeDeps(ctx);
  const plan = await planInstall(dir, deps);
  const { name, version } = plan.parsed.manifest;
  ctx.stderr(describePlan(plan));
  if (plan.confirm.length > 0 && options.yes !== true) {
    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ctx.json;
    if (!interactive || !(await confirmOnTerminal(ctx, `upgrade ${name}: ${plan.confirm.join("; ")}. Accept? [y/N] `))) {
      await discardPlan(plan, deps);
      throw new AegisError("denied", `upgrade of skill ${name} refused: ${plan.confirm.join("; ")}, and nobody confirmed it`, {
        hint: "review the permission diff above, then rerun with --yes to accept it",
      });
    }
  }
  const app = createApp(ctx.home);
  try {
    // Recorded before it takes effect, like every change of what may run.
    const audit = await app.openAudit();
    await audit.append({
      type: "policy",
      actor: localActor(),
      note: `skill ${name} ${version} ${plan.previous ? `upgraded from ${plan.previous.version}` : "installed"} (signature ${plan.verification.status})`,
      request: {
        skill: { name, version, signature: plan.verification.status, ...(plan.verification.publisher ? { publisher: plan.verification.publisher } : {}), imageDigest: plan.imageId },
        scopes: plan.parsed.manifest.scopes,
        ...(plan.previous ? { added: plan.added, removed: plan.removed } : {}),
      },
    });
  } finally {
    await app.close();
  }
  const installed = await commitInstall(plan, deps);
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify({ installed: { name, version, imageId: plan.imageId, built: plan.built, signature: plan.verification, scopes: plan.parsed.manifest.scopes, dir: installed.dir }, ...(plan.previous ? { upgrade: { from: plan.previous.version, added: plan.added, removed: plan.removed } } : {}) })}\n`);
  } else {
    ctx.stdout(`${plan.previous ? "upgraded" : "installed"} ${name} ${version}: ${describeVerification(plan.verification)}\n`);
  }
  return 0;
}

function describePlan(plan: InstallPlan): string {
  const { name, version, scopes } = plan.parsed.manifest;
  const lines = [`skill ${name} ${version}: image ${plan.imageId.slice(0, 19)} (${plan.built ? "built from the Dockerfile" : "the signed image, already present"})`];
  lines.push(`  signature  ${describeVerification(plan.verification)}`);
  if (plan.verification.status !== "valid") lines.push(`  note       not signed by a trusted publisher: the standard policy asks a person before each run, strict denies it`);
  if (plan.previous) {
    lines.push(`  upgrade    ${plan.previous.version} -> ${version}`);
    for (const scope of plan.added) lines.push(`  + ${scope}   (new)`);
    for (const scope of plan.removed) lines.push(`  - ${scope}   (removed)`);
    if (plan.added.length === 0 && plan.removed.length === 0) lines.push("  scopes unchanged");
  } else {
    lines.push(`  scopes     ${scopes.join(", ") || "none"}`);
    for (const [service, definition] of Object.entries(plan.parsed.manifest.services ?? {})) lines.push(`  service    ${service}: ${definition.scopes.join(", ") || "no scopes"}`);
  }
  return `${lines.join("\n")}\n`;
}

async function sign(dir: string, options: Options, ctx: CliContext): Promise<number> {
  if (typeof options.key !== "string") throw new AegisError("usage", "skills sign needs --key FILE (a private key from `aegisclaw skills keygen`)");
  const key = readSecretKeyFile(options.key);
  const parsed = loadManifest(dir);
  const images = dockerImages(engineSocket(ctx));
  const { imageId, built } = await acquireImage(dir, parsed, images);
  // Tagged, so the signed image is not a dangling one that `docker image prune` would delete.
  const [repository = "", tag = ""] = parsed.manifest.image.split(":");
  await images.tag(imageId, repository, tag);
  const block = signManifest(parsed.signed, imageId, key);
  writeFileAtomic(parsed.file, withSignature(parsed, block), 0o644);
  if (ctx.json) ctx.stdout(`${JSON.stringify({ signed: parsed.manifest.name, keyId: key.keyId, imageDigest: imageId, built })}\n`);
  else ctx.stdout(`signed ${parsed.manifest.name} ${parsed.manifest.version} with key ${key.keyId} for image ${imageId}\n`);
  return 0;
}

/** `verify NAME` checks an installed skill; `verify DIR` (a path with a slash) a skill directory. Exit 0 only when valid. */
async function verify(target: string, ctx: CliContext): Promise<number> {
  const deps = homeDeps(ctx);
  let name: string;
  let verification: Verification;
  if (target.includes("/")) {
    const parsed = loadManifest(target);
    const acquired = await acquireImage(target, parsed, deps.images);
    name = parsed.manifest.name;
    verification = verifyManifest(parsed, acquired.imageId, deps.trust.list());
    await releaseImage(acquired, deps);
  } else {
    const skill = deps.registry.get(target);
    name = skill.name;
    verification = verifyManifest(skill.parsed, skill.record.imageId, deps.trust.list());
  }
  if (ctx.json) ctx.stdout(`${JSON.stringify({ name, ...verification })}\n`);
  else ctx.stdout(`${name}: ${verification.status}: ${verification.reason}\n`);
  return verification.status === "valid" ? 0 : 1;
}

async function trust(args: string[], options: Options, ctx: CliContext): Promise<number> {
  const [sub, file, ...rest] = args;
  const { trust: store } = homeDeps(ctx);
  if (sub === undefined || sub === "list") {
    const keys = store.list();
    if (ctx.json) ctx.stdout(`${JSON.stringify({ keys })}\n`);
    else if (keys.length === 0) ctx.stdout("no trusted publisher keys (add one: aegisclaw skills trust add KEYFILE --name N)\n");
    else for (const key of keys) ctx.stdout(`${key.keyId}  ${key.name.padEnd(24)} added ${key.addedAt}\n`);
    return 0;
  }
  if ((sub !== "add" && sub !== "rm") || file === undefined || rest.length > 0) {
    throw new AegisError("usage", "expected: aegisclaw skills trust add KEYFILE --name N | trust list | trust rm KEYID|NAME");
  }
  const app = createApp(ctx.home);
  try {
    const audit = await app.openAudit();
    if (sub === "add") {
      if (typeof options.name !== "string") throw new AegisError("usage", "skills trust add needs --name N (who the key belongs to)");
      const publicKey = readPublicKeyFile(file);
      const entry = store.add(publicKey, options.name);
      await audit.append({ type: "policy", actor: localActor(), note: `skill publisher key ${entry.keyId} trusted as ${entry.name}` });
      ctx.stdout(ctx.json ? `${JSON.stringify({ trusted: entry })}\n` : `trusted ${entry.name} (key ${entry.keyId})\n`);
    } else {
      const gone = store.remove(file);
      await audit.append({ type: "policy", actor: localActor(), note: `skill publisher key ${gone.keyId} (${gone.name}) no longer trusted` });
      ctx.stdout(ctx.json ? `${JSON.stringify({ removed: gone })}\n` : `no longer trusted: ${gone.name} (key ${gone.keyId})\n`);
    }
  } finally {
    await app.close();
  }
  return 0;
}

/** Writes FILE (private, mode 0600, never overwritten) and FILE.pub. */
function keygen(file: string, ctx: CliContext): number {
  if (existsSync(file) || existsSync(`${file}.pub`)) throw new AegisError("bad-input", `${file} or ${file}.pub already exists`, { hint: "pick another path; keys are never overwritten" });
  const key = generateKey();
  writeFileAtomic(file, secretKeyPem(key.secretKey), 0o600);
  writeFileAtomic(`${file}.pub`, publicKeyPem(key.publicKey), 0o644);
  if (ctx.json) ctx.stdout(`${JSON.stringify({ keyId: key.keyId, privateKey: file, publicKey: `${file}.pub` })}\n`);
  else ctx.stdout(`key ${key.keyId}: private ${file} (keep it secret), public ${file}.pub (give it to those who trust you)\n`);
  return 0;
}
