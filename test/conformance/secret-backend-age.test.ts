import { describe } from "bun:test";
import { join } from "node:path";
import { AgeSecretStore } from "../../src/secrets/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { secretBackendConformance } from "./secret-backend.ts";

describe("SecretBackend conformance: age store", () => {
  secretBackendConformance("age store", async () => {
    const store = new AgeSecretStore(join(tempDir(), "secrets"));
    await store.init();
    return store;
  });
});
