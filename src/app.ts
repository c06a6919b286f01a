import { existsSync } from "node:fs";
import { ApprovalQueue, startControlServer, type ControlServer } from "./approvals/index.ts";
import { AuditLog } from "./audit/index.ts";
import { auditLogOptions, EventBus, Gate, homeLayout, limitsFrom, loadConfig, LockdownStore, parseDuration, requireInitialisedHome, type Assessor, type Config, type HistorySource, type HomeLayout } from "./core/index.ts";
import { auditHistory } from "./core/audit-history.ts";
import { egressAuditor } from "./core/egress-audit.ts";
import { poolRefusalAuditor } from "./core/sandbox-audit.ts";
import { configuredEngines, createCombinedEngine, readUserPolicies, type PolicyEngine, type UserPolicySource } from "./policy/index.ts";
import { createSandboxRuntime, engineRuntimeOf, isDockerRuntime, isSandboxRuntimeName, startWarmPool, type SandboxRuntime, type SandboxRuntimeName, type WarmPoolHandle } from "./sandbox/index.ts";
import { secretsSettingsFrom } from "./core/secrets-settings.ts";
import { SecretResolver } from "./secrets/index.ts";
import { AegisError } from "./shared/index.ts";

/** The composition root: real implementations wired for one home. No module-level singletons. */
export interface App {
  layout: HomeLayout;
  config: Config;
  bus: EventBus;
  lockdown: LockdownStore;
  /** This process's requests waiting for a person; the Gate's approver. */
  approvals: ApprovalQueue;
  /** The configured runtime (`sandbox.runtime`). Lockdown kills through killAllSandboxes, which reaches every runtime's. */
  runtime: SandboxRuntime;
  /**
   * The runtime a run asks for by name (built-in, or an OCI runtime registered with Docker),
   * each built once and self-tested before its first run; undefined for a malformed name.
   */
  runtimes(name: SandboxRuntimeName): SandboxRuntime | undefined;
  /**
   * Kills every AegisClaw sandbox on this host, whichever runtime started it and in whichever
   * process: the Docker engine's (every OCI runtime, selected by label) and bwrap's (its cgroups).
   * Lockdown calls this. A host without a Docker socket has no Docker sandboxes to kill.
   */
  killAllSandboxes(): Promise<number>;
  /** Opens the audit log once (lazily: it takes the signing key and a file lock per append). */
  openAudit(): Promise<AuditLog>;
  /** The policy input's history from this home's audit log (this process's own appends are announced to it, not read back). */
  history: HistorySource;
  /** The user policies the Gate decides with, as read when the app was built (decision workers get these). */
  userPolicies: readonly UserPolicySource[];
  /** The Gate, with the audit log opened; `assessor` moves validation and policy elsewhere (decision workers). */
  gate(options?: { assessor?: Assessor }): Promise<Gate>;
  /** A Gate for `simulate`: same policy and sandbox compiler, and no way to write the audit log. */
  simulator(): Gate;
  /**
   * Opens this process's control socket (`run/ctl/<pid>.sock`): consoles and `aegisclaw
   * approvals` in other shells then see its runs and can answer its approvals.
   */
  startControl(): ControlServer;
  /** Closes the control socket and the audit log (writing a checkpoint when entries were added). */
  close(): Promise<void>;
}

/** Options of createApp / assemble; every field is optional. */
export interface AppOptions {
  /** Overrides loading config.yaml (tests). */
  config?: Config;
  /**
   * Asks a person for the secret store's passphrase (a terminal) when a run granted secrets.read
   * needs a sealed identity unlocked and AEGISCLAW_SECRETS_PASSPHRASE is not set.
   */
  secretPassphrasePrompt?: () => Promise<string>;
}

/** Builds the app for an initialised home. */
export function createApp(home: string, options: AppOptions = {}): App {
  const layout = homeLayout(home);
  if (!options.config) requireInitialisedHome(layout);
  const config = options.config ?? loadConfig(layout.config);
  return assemble(layout, config, options);
}

/** Wires the pieces for a given layout and config. */
export function assemble(layout: HomeLayout, config: Config, options: Omit<AppOptions, "config"> = {}): App {
  const bus = new EventBus();
  const lockdown = new LockdownStore(layout.lockdownFile);
  const approvals = new ApprovalQueue(bus);
  const approvalTimeoutMs = parseDuration(config.approvals.timeout) ?? 120_000;
  let control: ControlServer | undefined;
  // Both runtimes talk to the same engine and label their containers alike, so killAll through
  // either one stops the sandboxes of both.
  // The egress proxy of a net.outbound run records each connection in this home's audit log.
  const egressAudit = egressAuditor(() => openAudit());
  // A pooled container found changed after its claim is refused (the run goes cold) and recorded.
  const onPoolRefused = poolRefusalAuditor(() => openAudit());
  const runtimeOptions = { socketPath: config.sandbox.dockerSocket, stateDir: layout.state, selfTestImage: config.sandbox.image, egressAudit, onPoolRefused };
  const built = new Map<string, SandboxRuntime>();
  const runtimes = (name: SandboxRuntimeName): SandboxRuntime | undefined => {
    if (!isSandboxRuntimeName(name)) return undefined;
    let found = built.get(name);
    if (!found) built.set(name, (found = createSandboxRuntime(name, runtimeOptions)));
    return found;
  };
  // config.yaml's runtime is validated on load; building it cannot fall back to another one.
  const runtime = createSandboxRuntime(config.sandbox.runtime, runtimeOptions);
  built.set(runtime.name, runtime);
  const killAllSandboxes = async (): Promise<number> => {
    const docker = isDockerRuntime(runtime.name) ? runtime : runtimes("docker");
    const families = [
      existsSync(config.sandbox.dockerSocket) && docker ? docker.killAll() : Promise.resolve(0),
      (runtimes("bwrap") as SandboxRuntime).killAll(),
    ];
    const outcomes = await Promise.allSettled(families);
    const failed = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    if (failed.length > 0) throw new AegisError("unavailable", failed.map((outcome) => (outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason))).join("; "));
    return outcomes.reduce((sum, outcome) => sum + (outcome.status === "fulfilled" ? outcome.value : 0), 0);
  };
  const userPolicies = readUserPolicies(layout.policies);
  const policy = createCombinedEngine(configuredEngines(config.policy.template, userPolicies));
  const history = auditHistory(layout.audit);
  let audit: Promise<AuditLog> | undefined;
  const openAudit = (): Promise<AuditLog> => {
    audit ??= AuditLog.open(layout.audit, auditLogOptions(config)).then((log) => {
      log.onWritten(history.noteWritten);
      return log;
    });
    return audit;
  };
  // Runs read the configured backend; the passphrase comes from the environment or a terminal.
  const secrets = new SecretResolver({
    settings: secretsSettingsFrom(config.secrets),
    secretsDir: layout.secrets,
    ...(process.env.AEGISCLAW_SECRETS_PASSPHRASE ? { passphrase: process.env.AEGISCLAW_SECRETS_PASSPHRASE } : {}),
    ...(options.secretPassphrasePrompt ? { prompt: options.secretPassphrasePrompt } : {}),
  });
  return {
    layout,
    config,
    bus,
    lockdown,
    approvals,
    runtime,
    runtimes,
    killAllSandboxes,
    openAudit,
    history: history.source,
    userPolicies,
    async gate(gateOptions = {}) {
      const { assessor } = gateOptions;
      return new Gate({ config, home: layout.root, audit: await openAudit(), runtime, runtimes, lockdown, bus, policy, history: history.source, approver: approvals, approvalTimeoutMs, secrets, ...(assessor ? { assessor } : {}) });
    },
    startControl() {
      control ??= startControlServer(layout.run, bus, approvals);
      return control;
    },
    simulator() {
      const audit = { append: () => Promise.reject(new AegisError("internal", "simulate must never write the audit log")) };
      return new Gate({ config, home: layout.root, audit, runtime, runtimes, lockdown, bus, policy, history: history.source });
    },
    async close() {
      approvals.withdrawAll("shutting down");
      control?.close();
      control = undefined;
      if (audit) await (await audit).close();
    },
  };
}

/** The policy stage's engines for this home as they are on disk now (configuredEngines). */
export function policyEngines(config: Config, layout: HomeLayout): PolicyEngine[] {
  return configuredEngines(config.policy.template, readUserPolicies(layout.policies));
}

/**
 * Keeps the warm pool of `sandbox.warmPool` filled for the configured runtime, or answers
 * undefined when it is off (the default). Long-running processes call this (serve, the
 * console) and `stop()` it before exiting; one-shot commands never fill, they only claim a
 * pooled container when one is there. Nothing is created while lockdown is active.
 */
export async function keepWarmPool(app: App, log: (line: string) => void): Promise<WarmPoolHandle | undefined> {
  const { sandbox } = app.config;
  const settings = sandbox.warmPool;
  if (!settings || settings.size === 0) return undefined;
  return startWarmPool({
    socketPath: sandbox.dockerSocket,
    ociRuntime: engineRuntimeOf(sandbox.runtime),
    images: settings.images.length > 0 ? settings.images : [sandbox.image],
    // The Gate's own numbers, or no run would ever match the pool (test/sandbox/warm-pool.test.ts runs one through a Gate).
    limits: limitsFrom(app.config),
    size: settings.size,
    paused: () => app.lockdown.isActive(),
    log,
  });
}
