/** What every command handler receives: the resolved home and where to write. */
export interface CliContext {
  /** Absolute path of `$AEGISCLAW_HOME` (default `~/.aegisclaw`). */
  home: string;
  /** `--json` was given: print machine-readable data on stdout, nothing decorative. */
  json: boolean;
  /** Data goes to stdout. */
  stdout: (text: string) => void;
  /** Diagnostics, progress and errors go to stderr. */
  stderr: (text: string) => void;
  /** True when stdout is a terminal (colour and live updates allowed). */
  isTty: boolean;
}
