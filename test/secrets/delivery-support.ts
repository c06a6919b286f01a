/** Shared fixture of the secret delivery tests: a real Gate, audit log, age store and Docker. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApprovalQueue } from "../../src/approvals/index.ts";
import { AuditLog, initAuditDir, readEntries, type AuditEntry } from "../../src/audit/index.ts";
import { Config, EventBus, Gate, LockdownStore, type Approver, type EventEnvelope, type RunIo } from "../../src/core/index.ts";
import { createBuiltinEngine, createCombinedEngine } from "../../src/policy/index.ts";
import { createOpaEngine } from "../../src/policy/opa/index.ts";
import { createSandboxRuntime, type SandboxRuntime, type SandboxSpec } from "../../src/sandbox/index.ts";
import { AgeSecretStore, SecretResolver, type SecretsSettings } from "../../src/secrets/index.ts";
import { BASE_IMAGE } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";

export const actor = { name: "tester", source: "cli" as const };

/** Every form of `value` the redactor looks for, and that must never leave unredacted. */
export function formsOf(value: string): string[] {
  const bytes = Buffer.from(value);
  const forms = new Set([value, bytes.toString("base64"), bytes.toString("base64").replace(/=+$/, ""), bytes.toString("base64url"), bytes.toString("hex"), bytes.toString("hex").toUpperCase(), encodeURIComponent(value)]);
  // Base64 of the value inside longer data, at each of the three alignments.
  for (const offset of [1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
    forms.add(shifted.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6)));
  }
  return [...forms];
}

/** The forms of `value` found in `bytes` (latin1, so any byte sequence is compared as is). */
export function leakedForms(bytes: Uint8Array | string, value: string): string[] {
  const text = typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("latin1");
  return formsOf(value).filter((form) => text.includes(form));
}

/** Every regular file under `dir`. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every file under `home` (except the encrypted store's `.age` files) that holds a form of `value`. */
export function homeLeaks(home: string, value: string): string[] {
  return filesUnder(home)
    .filter((file) => !file.endsWith(".age"))
    .filter((file) => leakedForms(readFileSync(file), value).length > 0);
}

/** An approver that approves every request at once, as a person at the console would. */
function approving(queue: ApprovalQueue): Approver {
  return {
    request(request, signal) {
      const waiting = queue.request(request, signal);
      queueMicrotask(() => queue.resolve(request.id, request.requestHash, "approve", "alice", "console"));
      return waiting;
    },
  };
}

export interface DeliveryFixture {
  gate: Gate;
  home: string;
  store: AgeSecretStore;
  lockdown: LockdownStore;
  events: EventEnvelope[];
  /** Every spec the runtime was handed (with its secret directory), in order. */
  specs: SandboxSpec[];
  entries(): AuditEntry[];
  /** Runs `argv` through the Gate, collecting decoded output. */
  run(argv: string[], options?: { grants?: string[]; timeoutMs?: number; runtime?: "docker" | "gvisor"; image?: string; onStdout?: (text: string) => void }): Promise<{ stdout: string; stderr: string; exitCode: number; runId: string }>;
}

const runtimes = { docker: createSandboxRuntime("docker", { selfTestImage: BASE_IMAGE }), gvisor: createSandboxRuntime("gvisor", { selfTestImage: BASE_IMAGE }) };

/**
 * A home with an audit log and an age store holding `secrets`, and a Gate with the standard
 * template (secrets.read asks) and an approver that says yes. `passphrase` seals the store;
 * `resolverPassphrase` is what the Gate's resolver is given (none by default); `settings`
 * selects another backend (the local store then holds only its credentials).
 */
export async function deliveryFixture(secrets: Record<string, string>, options: { passphrase?: string; resolverPassphrase?: string; settings?: SecretsSettings } = {}): Promise<DeliveryFixture> {
  const home = join(tempDir(), "home");
  const auditDir = join(home, "audit");
  await initAuditDir(auditDir);
  const secretsDir = join(home, "secrets");
  const store = new AgeSecretStore(secretsDir, { scryptWorkFactorForTests: 2, ...(options.passphrase ? { passphrase: async () => options.passphrase ?? "" } : {}) });
  await store.init(options.passphrase ? { passphrase: options.passphrase } : {});
  for (const [name, value] of Object.entries(secrets)) await store.set(name, value);
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((event) => events.push(event));
  const specs: SandboxSpec[] = [];
  const wrap = (real: SandboxRuntime): SandboxRuntime => ({ ...real, name: real.name, run: async (spec, io) => (specs.push(spec), real.run(spec, io)) });
  const lockdown = new LockdownStore(join(home, "lockdown.json"));
  const config = Config.parse({ version: 1, policy: { template: "standard", grants: ["shell.exec"] } });
  const resolver = new SecretResolver({ settings: options.settings ?? { backend: "age" }, secretsDir, ...(options.resolverPassphrase ? { passphrase: options.resolverPassphrase } : {}) });
  const gate = new Gate({
    config,
    home,
    audit: await AuditLog.open(auditDir),
    runtime: wrap(runtimes.docker),
    runtimes: { docker: wrap(runtimes.docker), gvisor: wrap(runtimes.gvisor) },
    lockdown,
    bus,
    policy: createCombinedEngine([createBuiltinEngine(), createOpaEngine("standard")]),
    approver: approving(new ApprovalQueue(bus)),
    approvalTimeoutMs: 10_000,
    secrets: resolver,
  });
  return {
    gate,
    home,
    store,
    lockdown,
    events,
    specs,
    entries: () => [...readEntries(auditDir)],
    async run(argv, runOptions = {}) {
      const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
      const out = { stdout: "", stderr: "" };
      const io: RunIo = {
        stdout: (chunk) => {
          const text = decoder.stdout.decode(chunk, { stream: true });
          out.stdout += text;
          runOptions.onStdout?.(text);
        },
        stderr: (chunk) => void (out.stderr += decoder.stderr.decode(chunk, { stream: true })),
      };
      const outcome = await gate.run({ actor, argv, grants: runOptions.grants ?? [], image: runOptions.image ?? BASE_IMAGE, timeoutMs: runOptions.timeoutMs ?? 30_000, ...(runOptions.runtime ? { runtime: runOptions.runtime } : {}) }, io);
      return { ...out, exitCode: outcome.exitCode, runId: outcome.runId };
    },
  };
}
