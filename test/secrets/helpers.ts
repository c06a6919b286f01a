import { join } from "node:path";
import { AgeSecretStore, type AgeStoreOptions } from "../../src/secrets/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

/** scrypt work factor for tests only: 2^10 instead of age's 2^18, so sealed identities open in ms. */
export const TEST_WORK_FACTOR = 10;

/** A store in a fresh temporary `secrets/` directory (not yet initialised). */
export function tempStore(options: AgeStoreOptions = {}): AgeSecretStore {
  return new AgeSecretStore(join(tempDir(), "secrets"), { scryptWorkFactorForTests: TEST_WORK_FACTOR, ...options });
}

/** Runs the real age CLI; `stdin` is piped when given. */
export function ageCli(args: string[], stdin?: Uint8Array | string): { exitCode: number; stdout: Uint8Array; stderr: string } {
  const proc = Bun.spawnSync(["age", ...args], { stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  return { exitCode: proc.exitCode, stdout: new Uint8Array(proc.stdout), stderr: proc.stderr.toString() };
}

/** The code of the AegisError a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; message: string; hint?: string };
    return { code: e.code ?? "none", message: e.message, hint: e.hint };
  }
  throw new Error("expected a rejection");
}
