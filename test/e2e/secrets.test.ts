import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AgeSecretStore } from "../../src/secrets/index.ts";
import { aegis, BINARY, type CliResult, tempHome, useCompiledBinary } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-home.ts";

useCompiledBinary();

const CANARY = "CANARY-e2e-5b1f0c9d2a-secret";

/** Runs the binary with `stdin` piped (the shared helper ignores stdin). */
async function aegisWithStdin(home: string, args: string[], stdin: string, env: Record<string, string> = {}): Promise<CliResult> {
  const proc = Bun.spawn([BINARY, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home, ...env },
    stdin: new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** A fresh home after `aegisclaw init --yes`: secret changes are audited, so they need its audit log. */
async function initialisedHome(): Promise<string> {
  const home = tempHome();
  const init = await aegis(home, ["init", "--yes"]);
  if (init.exitCode !== 0) throw new Error(`init failed: ${init.stderr}`);
  return home;
}

function storeOf(home: string, passphrase?: string): AgeSecretStore {
  return new AgeSecretStore(join(home, "secrets"), passphrase === undefined ? {} : { passphrase: async () => passphrase });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("secrets CLI", () => {
  test("secrets cli: init, set from stdin, list, rm", async () => {
    const home = await initialisedHome();
    const init = await aegis(home, ["secrets", "init"]);
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toMatch(/^age1[0-9a-z]+\n$/);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, "secrets")).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, "secrets", "identity.txt")).mode & 0o777).toBe(0o600);

    const set = await aegisWithStdin(home, ["secrets", "set", "GITHUB_TOKEN"], "ghp_value\n");
    expect(set).toMatchObject({ exitCode: 0, stdout: "", stderr: "stored GITHUB_TOKEN\n" });
    expect(await storeOf(home).get("GITHUB_TOKEN")).toBe("ghp_value");
    expect(statSync(join(home, "secrets", "GITHUB_TOKEN.age")).mode & 0o777).toBe(0o600);

    const list = await aegis(home, ["secrets", "list"]);
    expect(list.stdout).toMatch(/^GITHUB_TOKEN\tupdated \d{4}-/);
    const json = JSON.parse((await aegis(home, ["secrets", "list", "--json"])).stdout) as { secrets: Array<Record<string, string>> };
    expect(json.secrets.map((meta) => Object.keys(meta).sort())).toEqual([["created", "name", "updated"]]);

    expect((await aegis(home, ["secrets", "rm", "GITHUB_TOKEN"])).exitCode).toBe(0);
    expect((await aegis(home, ["secrets", "list", "--json"])).stdout).toBe('{"secrets":[]}\n');
    expect((await aegis(home, ["secrets", "rm", "GITHUB_TOKEN"])).exitCode).toBe(65);
  });

  test("secrets cli: changes are audited by name (logs shows them); without `aegisclaw init` they are refused", async () => {
    const bare = tempHome();
    const refused = await aegis(bare, ["secrets", "init"]);
    expect(refused.exitCode).toBe(65);
    expect(refused.stderr).toContain("aegisclaw init");
    const home = await initialisedHome();
    await aegis(home, ["secrets", "init"]);
    await aegisWithStdin(home, ["secrets", "set", "AUDITED"], CANARY);
    await aegis(home, ["secrets", "rm", "AUDITED"]);
    const logs = await aegis(home, ["logs"]);
    expect(logs.stdout).toContain("secret set AUDITED (age)");
    expect(logs.stdout).toContain("secret remove AUDITED (age)");
    const entries = (await aegis(home, ["logs", "--json"])).stdout;
    expect(entries).not.toContain(CANARY);
    expect((await aegis(home, ["logs", "verify"])).exitCode).toBe(0);
  });

  test("secrets cli: stdin loses exactly one trailing newline", async () => {
    const home = await initialisedHome();
    await aegis(home, ["secrets", "init"]);
    await aegisWithStdin(home, ["secrets", "set", "TWO_NEWLINES"], "value\n\n");
    await aegisWithStdin(home, ["secrets", "set", "NO_NEWLINE"], "value");
    await aegisWithStdin(home, ["secrets", "set", "PEM"], "-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
    const store = storeOf(home);
    expect(await store.get("TWO_NEWLINES")).toBe("value\n");
    expect(await store.get("NO_NEWLINE")).toBe("value");
    expect(await store.get("PEM")).toBe("-----BEGIN KEY-----\nabc\n-----END KEY-----");
  });

  test("secrets cli: --value works but warns loudly, and keeps numeric-looking values exact", async () => {
    const home = await initialisedHome();
    await aegis(home, ["secrets", "init"]);
    const result = await aegis(home, ["secrets", "set", "PIN", "--value", "007"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("WARNING: --value put this secret in your shell history and in the process list");
    expect(result.stderr).not.toContain("007");
    expect(await storeOf(home).get("PIN")).toBe("007");
    await aegis(home, ["secrets", "set", "WORD", "--value=plain-word"]);
    expect(await storeOf(home).get("WORD")).toBe("plain-word");
  });

  test("secrets cli: errors are clear and change nothing", async () => {
    const home = await initialisedHome();
    const before = await aegis(home, ["secrets", "list"]);
    expect(before.exitCode).toBe(65);
    expect(before.stderr).toContain("fix: run `aegisclaw secrets init`");
    await aegis(home, ["secrets", "init"]);
    expect((await aegis(home, ["secrets", "init"])).exitCode).toBe(65);
    expect((await aegis(home, ["secrets", "set", "EMPTY"])).exitCode).toBe(65); // stdin is /dev/null: empty value
    const badName = await aegisWithStdin(home, ["secrets", "set", "sk-live-oops"], "v");
    expect(badName.exitCode).toBe(65);
    expect(badName.stderr).not.toContain("sk-live-oops");
    expect((await aegis(home, ["secrets", "set"])).exitCode).toBe(64);
    expect((await aegis(home, ["secrets", "frobnicate"])).exitCode).toBe(64);
    expect(readdirSync(join(home, "secrets")).filter((file) => file.endsWith(".age"))).toEqual([]);
  });

  test("secrets cli: rotate keeps values readable", async () => {
    const home = await initialisedHome();
    const first = (await aegis(home, ["secrets", "init"])).stdout;
    await aegisWithStdin(home, ["secrets", "set", "A"], "a-value");
    await aegisWithStdin(home, ["secrets", "set", "B"], "b-value");
    const rotated = await aegis(home, ["secrets", "rotate", "--json"]);
    expect(rotated.exitCode).toBe(0);
    const body = JSON.parse(rotated.stdout) as { recipient: string; rotated: number };
    expect(body.rotated).toBe(2);
    expect(`${body.recipient}\n`).not.toBe(first);
    expect(await storeOf(home).get("A")).toBe("a-value");
    expect(await storeOf(home).get("B")).toBe("b-value");
  });

  test("secrets cli: a passphrase-protected identity unlocks from AEGISCLAW_SECRETS_PASSPHRASE", async () => {
    const home = await initialisedHome();
    const noTty = await aegis(home, ["secrets", "init", "--passphrase"]);
    expect(noTty.exitCode).toBe(64);
    expect(noTty.stderr).toContain("AEGISCLAW_SECRETS_PASSPHRASE");
    const env = { AEGISCLAW_SECRETS_PASSPHRASE: "e2e passphrase words" };
    expect((await aegis(home, ["secrets", "init", "--passphrase"], env)).exitCode).toBe(0);
    expect(readFileSync(join(home, "secrets", "identity.txt"), "utf8")).toStartWith("-----BEGIN AGE ENCRYPTED FILE-----");
    expect((await aegisWithStdin(home, ["secrets", "set", "LOCKED"], "locked value", env)).exitCode).toBe(0);
    expect((await aegisWithStdin(home, ["secrets", "set", "NOPASS"], "v")).exitCode).toBe(64);
    expect((await aegisWithStdin(home, ["secrets", "set", "WRONG"], "v", { AEGISCLAW_SECRETS_PASSPHRASE: "nope" })).exitCode).toBe(1);
    expect((await aegis(home, ["secrets", "list"])).stdout).toStartWith("LOCKED\t");
    expect(await storeOf(home, "e2e passphrase words").get("LOCKED")).toBe("locked value");
  }, 30_000);

  test("secrets cli: a canary value never leaves the .age files", async () => {
    const home = await initialisedHome();
    const outputs: CliResult[] = [];
    outputs.push(await aegis(home, ["secrets", "init"]));
    outputs.push(await aegisWithStdin(home, ["secrets", "set", "CANARY"], `${CANARY}\n`));
    outputs.push(await aegisWithStdin(home, ["secrets", "set", "CANARY"], CANARY, { AEGISCLAW_SECRETS_PASSPHRASE: "unused" }));
    outputs.push(await aegisWithStdin(home, ["secrets", "set", "bad-name"], CANARY));
    outputs.push(await aegis(home, ["secrets", "list"]));
    outputs.push(await aegis(home, ["secrets", "list", "--json"]));
    outputs.push(await aegis(home, ["secrets", "rotate"]));
    outputs.push(await aegis(home, ["secrets", "rotate", "--json"]));
    await Bun.write(join(home, "secrets", "CANARY.age"), "tampered");
    outputs.push(await aegis(home, ["secrets", "rotate", "--json"])); // fails on the damaged file
    expect(outputs.at(-1)?.exitCode).toBe(1);
    const forms = [CANARY, Buffer.from(CANARY).toString("base64"), Buffer.from(CANARY).toString("base64url"), Buffer.from(CANARY).toString("hex")];
    for (const output of outputs) for (const form of forms) expect(`${output.stdout}${output.stderr}`).not.toContain(form);
    for (const file of filesUnder(home).filter((path) => !path.endsWith(".age"))) {
      const content = readFileSync(file).toString("latin1");
      for (const form of forms) expect(content).not.toContain(form);
    }
  });
});

describe("secrets CLI on a terminal", () => {
  // A private tmux server on a socket inside a temp dir: nothing left behind in /tmp/tmux-UID.
  const socket = join(tempDir(), "tmux.sock");
  const tmux = (...args: string[]) => Bun.spawnSync(["tmux", "-S", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  afterAll(() => void tmux("kill-server"));

  async function waitFor(pane: string, text: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const screen = tmux("capture-pane", "-p", "-t", pane).stdout.toString();
      if (screen.includes(text)) return screen;
      await Bun.sleep(100);
    }
    throw new Error(`timed out waiting for "${text}" in:\n${tmux("capture-pane", "-p", "-t", pane).stdout.toString()}`);
  }

  test("secrets cli: the hidden prompt does not echo the value or the passphrase", async () => {
    const home = await initialisedHome();
    const script = `AEGISCLAW_HOME=${home} ${BINARY} secrets init --passphrase; AEGISCLAW_HOME=${home} ${BINARY} secrets set TTY_SECRET; echo "EXIT=$?"; sleep 60`;
    expect(tmux("new-session", "-d", "-s", "prompt", "-x", "200", "-y", "40", "sh", "-c", script).exitCode).toBe(0);
    await waitFor("prompt", "new passphrase for the secret store:");
    tmux("send-keys", "-t", "prompt", "-l", "tty pass phrase");
    tmux("send-keys", "-t", "prompt", "Enter");
    await waitFor("prompt", "repeat the passphrase:");
    tmux("send-keys", "-t", "prompt", "-l", "tty pass phrase");
    tmux("send-keys", "-t", "prompt", "Enter");
    await waitFor("prompt", "value for TTY_SECRET (not shown):");
    tmux("send-keys", "-t", "prompt", "-l", "typed-secrXt");
    tmux("send-keys", "-t", "prompt", "BSpace", "BSpace");
    tmux("send-keys", "-t", "prompt", "-l", "t");
    tmux("send-keys", "-t", "prompt", "Enter");
    await waitFor("prompt", "passphrase for the secret store:");
    tmux("send-keys", "-t", "prompt", "-l", "tty pass phrase");
    tmux("send-keys", "-t", "prompt", "Enter");
    const screen = await waitFor("prompt", "EXIT=");
    expect(screen).toContain("stored TTY_SECRET");
    expect(screen).toContain("EXIT=0");
    expect(screen).not.toContain("typed-secr");
    expect(screen).not.toContain("tty pass");
    expect(await storeOf(home, "tty pass phrase").get("TTY_SECRET")).toBe("typed-secrt");
  }, 30_000);

  test("secrets cli: Ctrl-C at the hidden prompt cancels, writes nothing and restores the terminal", async () => {
    const home = await initialisedHome();
    const script = `AEGISCLAW_HOME=${home} ${BINARY} secrets init >/dev/null 2>&1; AEGISCLAW_HOME=${home} ${BINARY} secrets set CANCELLED; echo "EXIT=$?"; stty -a | tr ' ' '\\n' | grep -x -- '-\\?echo' | sed 's/^/MODE=/'; sleep 60`;
    expect(tmux("new-session", "-d", "-s", "cancel", "-x", "200", "-y", "40", "sh", "-c", script).exitCode).toBe(0);
    await waitFor("cancel", "value for CANCELLED (not shown):");
    tmux("send-keys", "-t", "cancel", "-l", "half-typed");
    tmux("send-keys", "-t", "cancel", "C-c");
    const screen = await waitFor("cancel", "MODE=");
    expect(screen).toContain("cancelled; nothing was changed");
    expect(screen).toContain("EXIT=64");
    expect(screen).toContain("MODE=echo");
    expect(screen).not.toContain("half-typed");
    expect(readdirSync(join(home, "secrets")).filter((file) => file.endsWith(".age"))).toEqual([]);
  }, 30_000);
});
