import { expect, test } from "bun:test";
import { SECRET_NAME_MAX_LENGTH, type SecretBackend } from "../../src/secrets/index.ts";

/** The code, message and hint of the error a promise rejects with (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string; cause: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; message: string; hint?: string; cause?: unknown };
    return { code: e.code ?? "none", message: e.message, hint: e.hint ?? "", cause: String(e.cause ?? "") };
  }
  throw new Error("expected a rejection");
}

/** Asserts no given string appears anywhere in an error's message, hint or cause. */
export function expectNoLeak(error: { message: string; hint: string; cause: string }, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(error.message).not.toContain(secret);
    expect(error.hint).not.toContain(secret);
    expect(error.cause).not.toContain(secret);
  }
}

/**
 * The `SecretBackend` contract (STYLE.md habit 4): every implementation runs these same tests.
 * `make` returns a fresh, empty backend for each test.
 */
export function secretBackendConformance(label: string, make: () => Promise<SecretBackend>): void {
  test(`${label}: values round-trip exactly, including unicode, newlines, spaces and 1 MiB`, async () => {
    const backend = await make();
    const values = ["s3cr3t", "ünïcødé ✓ 秘密 🔑", "line1\nline2\r\n\n", " leading and trailing ", '{"json": "quotes \\" and \\\\"}', "x".repeat(1024 * 1024)];
    for (const [i, value] of values.entries()) await backend.set(`VALUE_${i}`, value);
    for (const [i, value] of values.entries()) expect(await backend.get(`VALUE_${i}`)).toBe(value);
  });

  test(`${label}: an empty backend lists nothing`, async () => {
    expect(await (await make()).list()).toEqual([]);
  });

  test(`${label}: list returns names and ISO times only, sorted by name, never values`, async () => {
    const backend = await make();
    await backend.set("ZED", "value-zed-canary-123");
    await backend.set("ALPHA", "value-alpha-canary-456");
    await backend.set("MIDDLE_1", "value-middle-canary-789");
    const listed = await backend.list();
    expect(listed.map((meta) => meta.name)).toEqual(["ALPHA", "MIDDLE_1", "ZED"]);
    for (const meta of listed) {
      expect(Object.keys(meta).sort()).toEqual(["created", "name", "updated"]);
      expect(new Date(meta.created).toISOString()).toBe(meta.created);
      expect(new Date(meta.updated).toISOString()).toBe(meta.updated);
    }
    expect(JSON.stringify(listed)).not.toContain("canary");
  });

  test(`${label}: overwriting changes the value and updated, but keeps created`, async () => {
    const backend = await make();
    await backend.set("TOKEN", "first");
    const [before] = await backend.list();
    await Bun.sleep(20);
    await backend.set("TOKEN", "second");
    const [after] = await backend.list();
    expect(await backend.get("TOKEN")).toBe("second");
    expect(after?.created).toBe(before?.created ?? "missing");
    expect(after?.updated).not.toBe(before?.updated ?? "missing");
    expect(Date.parse(after?.updated ?? "")).toBeGreaterThan(Date.parse(before?.updated ?? ""));
  });

  test(`${label}: remove deletes the secret; removing or reading it again is bad input`, async () => {
    const backend = await make();
    await backend.set("GONE", "v1");
    await backend.set("KEPT", "v2");
    await backend.remove("GONE");
    expect((await backend.list()).map((meta) => meta.name)).toEqual(["KEPT"]);
    expect(await rejectionOf(backend.get("GONE"))).toMatchObject({ code: "bad-input", message: "no secret named GONE" });
    expect(await rejectionOf(backend.remove("GONE"))).toMatchObject({ code: "bad-input", message: "no secret named GONE" });
    await backend.set("GONE", "back again");
    expect(await backend.get("GONE")).toBe("back again");
  });

  test(`${label}: a missing secret is bad input naming it`, async () => {
    const backend = await make();
    expect(await rejectionOf(backend.get("NOPE"))).toMatchObject({ code: "bad-input", message: "no secret named NOPE" });
  });

  test(`${label}: invalid names are bad input, not echoed, and write nothing`, async () => {
    const backend = await make();
    const bad = ["lower", "1START", "HAS-DASH", "HAS/SLASH", "../ESCAPE", "", "A".repeat(SECRET_NAME_MAX_LENGTH + 1), "sk-live-canary"];
    for (const name of bad) {
      for (const attempt of [() => backend.set(name, "v"), () => backend.get(name), () => backend.remove(name)]) {
        const error = await rejectionOf(attempt());
        expect(error.code).toBe("bad-input");
        if (name !== "") expect(error.message).not.toContain(name);
      }
    }
    expect(await backend.list()).toEqual([]);
    await backend.set("A".repeat(SECRET_NAME_MAX_LENGTH), "longest name is fine");
    expect(await backend.get("A".repeat(SECRET_NAME_MAX_LENGTH))).toBe("longest name is fine");
  });

  test(`${label}: empty and oversized values are bad input and write nothing`, async () => {
    const backend = await make();
    expect(await rejectionOf(backend.set("EMPTY", ""))).toMatchObject({ code: "bad-input" });
    const huge = await rejectionOf(backend.set("HUGE", "y".repeat(1024 * 1024 + 1)));
    expect(huge.code).toBe("bad-input");
    expect(huge.message).not.toContain("yyyy");
    expect(await backend.list()).toEqual([]);
  });

  test(`${label}: concurrent writes of different secrets all land`, async () => {
    const backend = await make();
    const names = Array.from({ length: 12 }, (_, i) => `PARALLEL_${i}`);
    await Promise.all(names.map((name) => backend.set(name, `value of ${name}`)));
    expect((await backend.list()).map((meta) => meta.name)).toEqual([...names].sort());
    for (const name of names) expect(await backend.get(name)).toBe(`value of ${name}`);
  });
}
