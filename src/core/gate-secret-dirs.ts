/**
 * Secret delivery to every container of a run. The main container and, in a multi-container
 * run, each service granted secrets.read get a directory of their own holding only their own
 * names: a sibling's values are never in a container's /run/secrets, while the run's redactor
 * knows them all (any service could pass a value to the one whose output is streamed).
 */
import { createSecretDir, serviceSecretId, type SandboxSpec, type SecretDir } from "../sandbox/index.ts";
import { AegisError } from "../shared/index.ts";

/** Every name granted to any container of the run, sorted and unique. */
export function runSecretNames(spec: SandboxSpec): string[] {
  const sidecars = spec.compose?.sidecars ?? [];
  return [...new Set([...(spec.secrets?.names ?? []), ...sidecars.flatMap((sidecar) => sidecar.secrets?.names ?? [])])].sort();
}

/** The directories of a run; `remove` tries every one and throws the first failure. */
export interface RunSecretDirs {
  /** `spec` with each container's `secrets.source` set. */
  spec: SandboxSpec;
  paths: string[];
  remove(): void;
}

/** Writes each granted container's directory from `values` (which holds at least every granted name). */
export function createRunSecretDirs(spec: SandboxSpec, values: ReadonlyMap<string, string>): RunSecretDirs {
  const dirs: SecretDir[] = [];
  const remove = () => {
    let failure: unknown;
    for (const dir of dirs) {
      try {
        dir.remove();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  };
  const deliver = (id: string, names: readonly string[]): string => {
    const granted = new Map<string, string>();
    for (const name of names) {
      const value = values.get(name);
      if (value === undefined) throw new AegisError("internal", `secret ${name} was granted but not read`);
      granted.set(name, value);
    }
    const dir = createSecretDir(id, granted);
    dirs.push(dir);
    return dir.path;
  };
  try {
    const main = spec.secrets && spec.secrets.names.length > 0 ? { secrets: { names: spec.secrets.names, source: deliver(spec.runId, spec.secrets.names) } } : {};
    const compose = spec.compose && {
      ...spec.compose,
      sidecars: spec.compose.sidecars.map((sidecar) => {
        const names = sidecar.secrets?.names ?? [];
        return names.length > 0 ? { ...sidecar, secrets: { names, source: deliver(serviceSecretId(spec.runId, sidecar.name), names) } } : sidecar;
      }),
    };
    return { spec: { ...spec, ...main, ...(compose ? { compose } : {}) }, paths: dirs.map((dir) => dir.path), remove };
  } catch (error) {
    try {
      remove();
    } catch {
      // The failure to write is the one to report; the next run's sweep erases what is left once this process is gone.
    }
    throw error;
  }
}
