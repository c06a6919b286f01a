/**
 * Skills: the manifest, ed25519 signing and the trust store, installed skills, and a skill run
 * as a Gate request. Docs: docs/skills.md.
 */
export { SkillManifest, ManifestSignature, SKILL_NAME_PATTERN, commandScopes, serviceScopes, skillScopes, type SkillCommand } from "./manifest.ts";
export { SERVICE_NAME_PATTERN, parseComposeFile, sidecarsOf, type ComposeFile, type ComposeService } from "./compose-file.ts";
export { COMPOSE_SIGNED_KEY, MANIFEST_FILE, loadManifest, parseManifest, withSignature, type ComposeSource, type ParsedManifest } from "./manifest-file.ts";
export { generateKey, keyIdOf, publicKeyPem, readPublicKeyFile, readSecretKeyFile, secretKeyPem, type SecretKey } from "./keys.ts";
export { SIGNATURE_CONTEXT, signManifest, signedMessage, verifyManifest, type SignatureStatus, type Verification } from "./signing.ts";
export { PUBLISHER_NAME_PATTERN, TrustStore, TrustedKey } from "./trust.ts";
export { SKILL_BASE_IMAGE, lintDockerfile } from "./dockerfile.ts";
export { buildContextTar } from "./build-context.ts";
export { dockerImages, type SkillImages } from "./images.ts";
export { InstallRecord, SkillRegistry, type InstalledSkill } from "./registry.ts";
export { acquireImage, commitInstall, discardPlan, planInstall, releaseImage, type AcquiredImage, type InstallDeps, type InstallPlan } from "./install.ts";
export { parsePathBindings, pickCommand, planSkillRun, type SkillReference, type SkillRunPlan, type SkillServiceRun } from "./run.ts";
export { prepareSkillRun, requireSkillImage, summarizeSkill, verifiedSkills, type CommandChoice, type SkillSummary } from "./prepare.ts";
export { bindSkillScope, parseSkillScope, type SkillScope } from "./skill-scope.ts";
