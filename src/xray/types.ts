/** A running AegisClaw sandbox, as `xray list` shows it. */
export interface XrayRunSummary {
  runId: string;
  containerId: string;
  image: string;
  /** OCI runtime the engine reports (runc, runsc, ...). */
  runtime: string;
  state: string;
  startedAt: string;
  argv: string[];
}

/** What the Docker API says about one sandbox right now: processes, usage, mounts, isolation. */
export interface XrayReport extends XrayRunSummary {
  processes: Array<{ pid: string; user: string; command: string }>;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  pids: number | null;
  /** null when the sandbox has no network interface at all (network "none"). */
  network: { rxBytes: number; txBytes: number } | null;
  mounts: Array<{ source: string; target: string; readOnly: boolean }>;
  security: {
    user: string;
    readOnlyRootfs: boolean;
    capDrop: string[];
    capAdd: string[];
    seccomp: string;
    noNewPrivileges: boolean;
    networkMode: string;
    pidsLimit: number | null;
    memoryLimitBytes: number | null;
  };
  sampledAt: string;
  /**
   * What could not be observed and why (e.g. gVisor's process list, a stats call that failed).
   * Absent when everything was read.
   */
  notes?: string[];
}
