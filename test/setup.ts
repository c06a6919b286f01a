// Preloaded by bunfig.toml for every test run. A global afterAll runs once after all files;
// per-file hooks cannot be used because tempDir() is also called inside beforeAll hooks, and
// bun test emits no process "exit" event.
import { afterAll } from "bun:test";
import { removeTempDirs } from "./helpers/temp-home.ts";

afterAll(removeTempDirs);
