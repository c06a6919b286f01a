import { expect, test } from "bun:test";
import { PROBE_WINDOW_MS, SETTLED_MS } from "../../src/shared/index.ts";
import { AgeSecretStore, SecretResolver } from "../../src/secrets/index.ts";
import { TEST_WORK_FACTOR, tempStore } from "./helpers.ts";

// The resolver keeps the store's known values while the store's files are unchanged; every
// change another process makes must be seen by the next call made once the probe window passed.

const names = async (resolver: SecretResolver) => [...new Set((await resolver.known()).map((secret) => `${secret.name}=${secret.value}`))].sort();

/** Waits until files written now count as settled, so the resolver does keep its cache. */
const settle = () => Bun.sleep(SETTLED_MS + 100);
/** Waits out the stat probe's window (one stat answers for PROBE_WINDOW_MS). */
const windowPassed = () => Bun.sleep(PROBE_WINDOW_MS + 1);

test("known values: a store that appears, and secrets set, changed or removed by another process, are seen by the next call after the probe window", async () => {
  const store = tempStore();
  const resolver = new SecretResolver({ settings: { backend: "age" }, secretsDir: store.paths.dir });
  expect(await resolver.known()).toEqual([]);
  await store.init();
  await store.set("API_KEY", "first-value-0123456789");
  await windowPassed();
  expect(await names(resolver)).toEqual(["API_KEY=first-value-0123456789"]);
  await settle();
  // Cached now (the files have settled); another handle on the same directory is another process.
  await resolver.known();
  const other = new AgeSecretStore(store.paths.dir, { scryptWorkFactorForTests: TEST_WORK_FACTOR });
  await other.set("DB_PASS", "second-value-0123456789");
  await windowPassed();
  expect(await names(resolver)).toEqual(["API_KEY=first-value-0123456789", "DB_PASS=second-value-0123456789"]);
  await settle();
  await resolver.known();
  await other.set("API_KEY", "changed-value-0123456789");
  await windowPassed();
  expect(await names(resolver)).toEqual(["API_KEY=changed-value-0123456789", "DB_PASS=second-value-0123456789"]);
  await settle();
  await resolver.known();
  await other.remove("DB_PASS");
  await windowPassed();
  expect(await names(resolver)).toEqual(["API_KEY=changed-value-0123456789"]);
});

test("known values: a settled, unchanged store hands out the same objects (callers cache their encodings per object)", async () => {
  const store = tempStore();
  await store.init();
  await store.set("API_KEY", "a-value-0123456789");
  await settle();
  const resolver = new SecretResolver({ settings: { backend: "age" }, secretsDir: store.paths.dir });
  const [first] = await resolver.known();
  const [again] = await resolver.known();
  expect(again).toBe(first as NonNullable<typeof first>);
});

test("known values: a sealed store's values become known once a run's read unlocked it", async () => {
  const store = tempStore();
  await store.init({ passphrase: "correct horse battery staple" });
  await store.set("GRANTED", "granted-value-0123456789");
  await store.set("OTHER", "other-value-0123456789");
  await settle();
  const resolver = new SecretResolver({ settings: { backend: "age" }, secretsDir: store.paths.dir, passphrase: "correct horse battery staple" });
  // Sealed and not unlocked in this process: nothing is known without a person (or a run).
  expect(await resolver.known()).toEqual([]);
  expect(await resolver.known()).toEqual([]);
  await resolver.read(["GRANTED"]);
  expect(await names(resolver)).toEqual(["GRANTED=granted-value-0123456789", "OTHER=other-value-0123456789"]);
});
