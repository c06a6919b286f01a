/**
 * `skills add DIR`: validate, get the image, verify, compare with what is installed, and only
 * then write. An upgrade that adds scopes (or loses its trusted signature) is a plan that needs
 * a person's confirmation; nothing is written until the caller commits it.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AegisError, isAegisError } from "../shared/index.ts";
import { buildContextTar } from "./build-context.ts";
import { lintDockerfile } from "./dockerfile.ts";
import type { SkillImages } from "./images.ts";
import { skillScopes, type SkillManifest } from "./manifest.ts";
import { loadManifest, type ParsedManifest } from "./manifest-file.ts";
import type { InstalledSkill, SkillRegistry } from "./registry.ts";
import { verifyManifest, type Verification } from "./signing.ts";
import type { TrustStore } from "./trust.ts";

/** What installing needs. */
export interface InstallDeps {
  images: SkillImages;
  trust: TrustStore;
  registry: SkillRegistry;
}

/** The image of a skill directory and whether this call built it. */
export interface AcquiredImage {
  imageId: string;
  built: boolean;
}

/** An install worked out but not yet written. */
export interface InstallPlan {
  parsed: ParsedManifest;
  source: string;
  imageId: string;
  built: boolean;
  verification: Verification;
  /** The installed version being replaced, if any. */
  previous?: { version: string; scopes: string[]; imageId: string; verification: Verification };
  /** Scopes the new manifest has and the installed one does not (the permission diff). */
  added: string[];
  removed: string[];
  /** Why a person must confirm before it is written; empty when nothing widens. */
  confirm: string[];
}

/**
 * The image a skill directory stands for. When its signature names an image the engine
 * already has (e.g. `docker load`ed from the publisher), that exact image is used: it is what
 * was signed. Otherwise the Dockerfile (held to the offline subset) is built.
 */
export async function acquireImage(dir: string, parsed: ParsedManifest, images: SkillImages): Promise<AcquiredImage> {
  const signed = parsed.signature?.imageDigest;
  if (signed !== undefined && (await images.idOf(signed)) === signed) return { imageId: signed, built: false };
  const dockerfile = join(dir, "Dockerfile");
  let text: string;
  try {
    text = readFileSync(dockerfile, "utf8");
  } catch {
    throw new AegisError("bad-input", `${dockerfile} is missing${signed ? ` and the signed image ${signed} is not in the Docker engine` : ""}`, {
      hint: "a skill directory holds manifest.yaml and a Dockerfile (docs/skills.md)",
    });
  }
  lintDockerfile(text, dockerfile);
  const { name, version } = parsed.manifest;
  const imageId = await images.build(buildContextTar(dir), { "io.aegisclaw.skill": name, "io.aegisclaw.skill.version": version });
  return { imageId, built: true };
}

/** Works out an install of `dir`; refuses a signature that does not verify (tampered or for another image). */
export async function planInstall(dir: string, deps: InstallDeps): Promise<InstallPlan> {
  const source = resolve(dir);
  const parsed = loadManifest(source);
  const { imageId, built } = await acquireImage(source, parsed, deps.images);
  const trusted = deps.trust.list();
  const verification = verifyManifest(parsed, imageId, trusted);
  const plan: InstallPlan = { parsed, source, imageId, built, verification, added: [], removed: [], confirm: [] };
  if (verification.status === "invalid") {
    await discardPlan(plan, deps);
    throw new AegisError("bad-input", `${parsed.file}: invalid signature: ${verification.reason}`, {
      hint: "sign it again (`aegisclaw skills sign DIR --key KEY`); an image built on another machine differs, so load the publisher's image (docker load) or re-sign here",
    });
  }
  const name = parsed.manifest.name;
  if (!deps.registry.has(name)) return plan;
  let installed: InstalledSkill;
  try {
    installed = deps.registry.get(name);
  } catch (error) {
    // A damaged install cannot be compared with: replacing it needs a person, like new scopes.
    if (!isAegisError(error)) throw error;
    plan.confirm.push(`the installed ${name} is damaged (${error.message}), so what it was granted cannot be compared`);
    return plan;
  }
  const before = permissionUnits(installed.parsed.manifest);
  const after = permissionUnits(parsed.manifest);
  const previousVerification = verifyManifest(installed.parsed, installed.record.imageId, trusted);
  plan.previous = { version: installed.parsed.manifest.version, scopes: before, imageId: installed.record.imageId, verification: previousVerification };
  plan.added = after.filter((scope) => !before.includes(scope));
  plan.removed = before.filter((scope) => !after.includes(scope));
  if (plan.added.length > 0) plan.confirm.push(`it adds scopes: ${plan.added.join(", ")}`);
  if (previousVerification.status === "valid" && verification.status !== "valid") {
    plan.confirm.push(`its signature drops from valid (${previousVerification.publisher}) to ${verification.status}`);
  } else if (previousVerification.status === "valid" && verification.publisher !== previousVerification.publisher) {
    plan.confirm.push(`its publisher changes from ${previousVerification.publisher} to ${verification.publisher}`);
  }
  return plan;
}

/**
 * What the permission diff compares: the skill's scopes and, for a docker-compose skill, which
 * service gets each (moving a mount from one service to another widens that service).
 */
function permissionUnits(manifest: SkillManifest): string[] {
  const services = Object.entries(manifest.services ?? {}).flatMap(([name, service]) => service.scopes.map((scope) => `${scope} (service ${name})`));
  return [...skillScopes(manifest).map((scope) => scope.text), ...services];
}

/** Writes a planned install: tags the image and replaces the registry entry atomically. */
export async function commitInstall(plan: InstallPlan, deps: InstallDeps, now = new Date()): Promise<InstalledSkill> {
  const { name, version, image } = plan.parsed.manifest;
  const [repository = "", tag = ""] = image.split(":");
  await deps.images.tag(plan.imageId, repository, tag);
  return deps.registry.write(plan.parsed, { name, version, imageId: plan.imageId, image, installedAt: now.toISOString(), source: plan.source });
}

/** Drops what a plan that will not be committed built (an image no installed skill uses). */
export function discardPlan(plan: InstallPlan, deps: InstallDeps): Promise<void> {
  return releaseImage({ imageId: plan.imageId, built: plan.built }, deps);
}

/**
 * Removes an image this process built and nothing installed uses (a refused install, a `verify
 * DIR`). When in doubt (a registry entry that cannot be read) it is kept.
 */
export async function releaseImage(acquired: AcquiredImage, deps: InstallDeps): Promise<void> {
  if (!acquired.built) return;
  try {
    if (deps.registry.list().some((skill) => skill.record.imageId === acquired.imageId)) return;
  } catch {
    return;
  }
  await deps.images.remove(acquired.imageId).catch(() => false);
}
