/**
 * PID 1 of a pooled container, and the run header its claimer sends it. The container is
 * started with `sh -c POOL_SCRIPT aegisclaw-pool` and stdin open: the script waits for one
 * header on stdin (written by the claimer through an attach, warm-pool-run.ts), decodes it into
 * the run's env and argv, and `exec`s the argv with stdin from /dev/null, so the command becomes
 * PID 1 exactly as in a cold run: its exit status is the container's, its output the attach
 * stream. Header, all lines ending in "\n":
 *
 *     <nonce>                          32 lowercase hex digits, fresh per run
 *     <env entries> <argv entries>     decimal, 0..9999 and 1..9999, one space between
 *     base64(NAME=VALUE)               one line per env entry
 *     base64(argument)                 one line per argv entry (the empty string is an empty line)
 *     end
 *
 * Right before its `exec` the script writes `aegisclaw-pool-run <nonce>\n` to stdout; the
 * claimer strips it and lets the command's output through only after it saw its own nonce there
 * first (RunMarkerGate). So a run's output is never something else's: had anybody written to
 * this stdin before us, even half a line, the script would not echo our nonce (the nonce must be
 * the first line, and no line of ours is valid where another is expected: the counts line has a
 * space, which no base64 line or nonce may have).
 *
 * The script never evaluates input as shell code: values only ever reach `set --`,
 * `export "NAME=VALUE"` (name checked here and on the host) and `exec "$@"`. Anything malformed
 * (a count, a base64 line, a name, a missing or misplaced `end`, stdin closed early) ends it with
 * POOL_REFUSED_EXIT before anything runs. Its own variables are `aegisclaw_*`, a prefix no run's
 * env may use (it would overwrite them), so such runs go cold.
 */
import { AegisError } from "../../shared/index.ts";
import { createDemuxer, type StreamName } from "./demux.ts";

/** The script exits with this when its header is malformed; nothing of the run was started. */
export const POOL_REFUSED_EXIT = 121;
/** The script exits with this at start when the image has no `base64` (the filler also probes for it). */
export const POOL_NO_TOOLS_EXIT = 120;
/** What the script says on stderr when it refuses a header. */
const REFUSED_MESSAGE = "aegisclaw warm pool: refused a malformed run header; nothing was run";
/** At most this many env entries and this many arguments (4 decimal digits in the header). */
export const MAX_HEADER_ENTRIES = 9999;
/** Env names a run may not use in a pooled container: the script's own variables. */
export const RESERVED_ENV_PREFIX = "aegisclaw_";

const bad = "aegisclaw_bad";
const NONCE_HEX_DIGITS = 32;
const MARKER_PREFIX = "aegisclaw-pool-run ";
/**
 * One line, printable ASCII only, so `/containers/{id}/top` shows it verbatim and the claim can
 * compare PID 1's command line with it. Every expansion is quoted; the only commands run on input
 * are `printf %s | base64 -d` (data in, data out) and the final `exec`.
 */
export const POOL_SCRIPT = [
  `command -v base64 >/dev/null || exit ${POOL_NO_TOOLS_EXIT}`,
  `${bad}() { echo "${REFUSED_MESSAGE}" >&2; exit ${POOL_REFUSED_EXIT}; }`,
  `IFS= read -r aegisclaw_n || ${bad}`,
  `case "$aegisclaw_n" in *[!0-9a-f]*) ${bad};; esac`,
  `[ "\${#aegisclaw_n}" -eq ${NONCE_HEX_DIGITS} ] || ${bad}`,
  `IFS= read -r aegisclaw_c || ${bad}`,
  `case "$aegisclaw_c" in *' '*) ;; *) ${bad};; esac`,
  `aegisclaw_e="\${aegisclaw_c% *}"`,
  `aegisclaw_a="\${aegisclaw_c#* }"`,
  // Digits only on both sides also means exactly one space.
  `case "$aegisclaw_e$aegisclaw_a" in *[!0-9]*) ${bad};; esac`,
  // Decimal without leading zeros (the shell's arithmetic would read 010 as octal), at most 4 digits.
  `case "$aegisclaw_e" in ''|0?*|?????*) ${bad};; esac`,
  `case "$aegisclaw_a" in ''|0|0?*|?????*) ${bad};; esac`,
  "set --",
  "aegisclaw_i=0",
  `while [ "$aegisclaw_i" -lt "$((aegisclaw_e + aegisclaw_a))" ]; do IFS= read -r aegisclaw_l || ${bad}`,
  // Strict base64 (alphabet, length, padding only at the end), so base64 -d cannot fail halfway.
  `case "$aegisclaw_l" in *[!A-Za-z0-9+/=]*) ${bad};; esac`,
  `[ "$((\${#aegisclaw_l} % 4))" -eq 0 ] || ${bad}`,
  `aegisclaw_t="\${aegisclaw_l%=}"`,
  `case "\${aegisclaw_t%=}" in *=*) ${bad};; esac`,
  "aegisclaw_v=",
  // $(...) strips trailing newlines: the sentinel x keeps them, and is there only if base64 -d succeeded.
  `if [ -n "$aegisclaw_l" ]; then aegisclaw_v="$(printf %s "$aegisclaw_l" | base64 -d && echo x)" || ${bad}`,
  `case "$aegisclaw_v" in *x) aegisclaw_v="\${aegisclaw_v%x}";; *) ${bad};; esac`,
  "fi",
  `if [ "$aegisclaw_i" -lt "$aegisclaw_e" ]; then case "$aegisclaw_v" in [A-Za-z_]*=*) ;; *) ${bad};; esac`,
  `case "\${aegisclaw_v%%=*}" in *[!A-Za-z0-9_]*|${RESERVED_ENV_PREFIX}*|PATH) ${bad};; esac`,
  "fi",
  'set -- "$@" "$aegisclaw_v"',
  'aegisclaw_i="$((aegisclaw_i + 1))"',
  "done",
  `IFS= read -r aegisclaw_l && [ "$aegisclaw_l" = end ] || ${bad}`,
  `cd /tmp || ${bad}`,
  `printf '${MARKER_PREFIX}%s\\n' "$aegisclaw_n" || ${bad}`,
  // The shell's own bookkeeping, which a cold run's command would not inherit.
  "unset OLDPWD PWD SHLVL",
  // Exports last: nothing of ours runs with the run's env, and no export can change the loop above.
  'while [ "$aegisclaw_e" -gt 0 ]; do export "$1"', "shift", 'aegisclaw_e="$((aegisclaw_e - 1))"', "done",
  'exec "$@" </dev/null',
].join("; ");

/** `$0` of the script: names the process in `top` and in the test's /proc checks. */
export const POOL_SCRIPT_NAME = "aegisclaw-pool";
/** PID 1 of a pooled container. */
export const POOL_ARGV: readonly string[] = ["sh", "-c", POOL_SCRIPT, POOL_SCRIPT_NAME];

/**
 * A run that the image's `sh` and `base64` decode correctly: the filler runs it cold once per
 * image id before pooling the image (expects exactly POOL_PROBE_OUTPUT on stdout, exit 0).
 */
export const POOL_PROBE_ARGV: readonly string[] = ["sh", "-c", "command -v base64 >/dev/null && printf %s 'YQpiIGMK' | base64 -d && echo x"];
export const POOL_PROBE_OUTPUT = "a\nb c\nx\n";

/**
 * Why a run with this argv and env cannot be sent to the pool script, or undefined. Such runs go
 * cold (where the engine applies the cold rules): a NUL byte (argv and env are C strings), a
 * name the script reserves, more entries than the header can count.
 */
export function notSendable(argv: readonly string[], env: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(env);
  if (argv.length === 0 || argv.length > MAX_HEADER_ENTRIES || entries.length > MAX_HEADER_ENTRIES) return "too many arguments or env entries";
  if (argv.some((arg) => arg.includes("\0")) || entries.some(([name, value]) => name.includes("\0") || value.includes("\0"))) return "a NUL byte";
  if (entries.some(([name]) => name.startsWith(RESERVED_ENV_PREFIX))) return `an env name starting with ${RESERVED_ENV_PREFIX}`;
  return undefined;
}

/**
 * The header for `argv` and `env` (names already validated by containerOptions). Throws for a run
 * notSendable refuses; callers check first.
 */
export function runHeader(nonce: string, argv: readonly string[], env: Readonly<Record<string, string>>): Uint8Array {
  if (!new RegExp(`^[0-9a-f]{${NONCE_HEX_DIGITS}}$`).test(nonce)) throw new AegisError("internal", "run header nonce must be 32 lowercase hex digits");
  const problem = notSendable(argv, env);
  if (problem !== undefined) throw new AegisError("internal", `run cannot be sent to a pooled container: ${problem}`);
  const entries = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const encode = (value: string) => Buffer.from(value, "utf8").toString("base64");
  const lines = [nonce, `${entries.length} ${argv.length}`, ...entries.map(encode), ...argv.map(encode), "end"];
  return new TextEncoder().encode(`${lines.join("\n")}\n`);
}

/** A fresh nonce for one run header. */
export function runNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(NONCE_HEX_DIGITS / 2))).toString("hex");
}

/** What the script writes to stdout right before it `exec`s the run sent with `nonce`. */
export function runMarker(nonce: string): Uint8Array {
  return new TextEncoder().encode(`${MARKER_PREFIX}${nonce}\n`);
}

/** Stderr held back while waiting for the marker, at most. */
const MAX_HELD_BYTES = 64 * 1024;

/** Where the gate is: waiting for the marker, passing output through, or refused. */
export type GateState = "waiting" | "open" | "mismatch";

/**
 * Sits between the attach stream and the run's output sink: holds everything back until the
 * first stdout bytes are exactly `runMarker(nonce)`, strips them, then passes the command's
 * output on, re-framed, to `push`. Anything else first (other stdout bytes; stderr is held, as
 * the engine may forward the command's stderr before the marker's stdout frame) closes the gate
 * for good and calls `onMismatch` once.
 */
export function createRunMarkerGate(nonce: string, push: (raw: Uint8Array) => void, onMismatch: () => void): { push: (raw: Uint8Array) => void; readonly state: GateState } {
  const marker = runMarker(nonce);
  let seen = 0;
  let state: GateState = "waiting";
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  const refuse = () => {
    state = "mismatch";
    held.length = 0;
    onMismatch();
  };
  const forward = (stream: StreamName, payload: Uint8Array) => push(frame(stream, payload));
  const demux = createDemuxer((stream, payload) => {
    if (state === "mismatch") return;
    if (state === "open") return forward(stream, payload);
    if (stream === "stderr") {
      held.push(payload);
      heldBytes += payload.length;
      // The script writes nothing before its marker: this much waiting stderr is not ours.
      if (heldBytes > MAX_HELD_BYTES) refuse();
      return;
    }
    const take = Math.min(marker.length - seen, payload.length);
    for (let i = 0; i < take; i++) {
      if (payload[i] !== marker[seen + i]) return refuse();
    }
    seen += take;
    if (seen < marker.length) return;
    state = "open";
    for (const chunk of held.splice(0)) forward("stderr", chunk);
    if (take < payload.length) forward("stdout", payload.subarray(take));
  });
  return {
    push: demux,
    get state() {
      return state;
    },
  };
}

/** One multiplexed frame: type (1 stdout, 2 stderr), three zero bytes, big-endian length, payload. */
function frame(stream: StreamName, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(8 + payload.length);
  bytes[0] = stream === "stdout" ? 1 : 2;
  new DataView(bytes.buffer).setUint32(4, payload.length, false);
  bytes.set(payload, 8);
  return bytes;
}
