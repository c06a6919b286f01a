/**
 * Skill images through the local Docker Engine API (unix socket): build from a context tar,
 * look up, tag, remove. Builds never pull (`pull=false`) and run without a network; the
 * Dockerfile subset (dockerfile.ts) has nothing that would use one anyway.
 */
import { AegisError } from "../shared/index.ts";

const API = "http://docker/v1.41";

/** The engine operations skills need; tests and other engines can pass their own. */
export interface SkillImages {
  /** Builds the context; resolves to the image id (`sha256:...`). Untagged. */
  build(context: Uint8Array, labels: Record<string, string>): Promise<string>;
  /** The image's id, or undefined when the engine has no such image. */
  idOf(reference: string): Promise<string | undefined>;
  /** Points `repository:tag` at the image. */
  tag(id: string, repository: string, tag: string): Promise<void>;
  /** Removes an image (not forced: an image in use or with other tags stays). Resolves to whether it went. */
  remove(reference: string): Promise<boolean>;
}

/** The Docker engine at `socketPath`. Construction does no I/O. */
export function dockerImages(socketPath: string): SkillImages {
  const call = async (method: string, path: string, init: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> => {
    try {
      return await fetch(`${API}${path}`, { method, unix: socketPath, ...init } as RequestInit);
    } catch (error) {
      throw new AegisError("unavailable", `the Docker engine at ${socketPath} is not reachable: ${(error as Error).message}`, {
        hint: "start it (scripts/start-docker.sh) and check sandbox.dockerSocket in config.yaml",
      });
    }
  };
  return {
    async build(context, labels) {
      const query = new URLSearchParams({ rm: "1", forcerm: "1", pull: "0", networkmode: "none", dockerfile: "Dockerfile", labels: JSON.stringify(labels) });
      const response = await call("POST", `/build?${query}`, { body: context, headers: { "content-type": "application/x-tar" } });
      const text = await response.text();
      if (!response.ok) throw buildError(messageOf(text) ?? response.statusText);
      let id: string | undefined;
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        let event: { error?: string; aux?: { ID?: string } };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          continue;
        }
        if (event.error) throw buildError(event.error);
        if (event.aux?.ID) id = event.aux.ID;
      }
      if (!id || !/^sha256:[0-9a-f]{64}$/.test(id)) throw new AegisError("unavailable", "the Docker engine did not report the built image's id");
      return id;
    },
    async idOf(reference) {
      const response = await call("GET", `/images/${encodeURIComponent(reference)}/json`);
      if (response.status === 404) return undefined;
      const text = await response.text();
      if (!response.ok) throw new AegisError("unavailable", `looking up image ${reference}: ${messageOf(text) ?? response.statusText}`);
      return (JSON.parse(text) as { Id: string }).Id;
    },
    async tag(id, repository, tag) {
      const response = await call("POST", `/images/${encodeURIComponent(id)}/tag?${new URLSearchParams({ repo: repository, tag })}`);
      if (!response.ok) throw new AegisError("unavailable", `tagging ${id} as ${repository}:${tag}: ${messageOf(await response.text()) ?? response.statusText}`);
    },
    async remove(reference) {
      const response = await call("DELETE", `/images/${encodeURIComponent(reference)}`);
      await response.text();
      return response.ok;
    },
  };
}

function buildError(message: string): AegisError {
  const missingBase = /pull access denied|repository does not exist|No such image/i.test(message);
  return new AegisError(missingBase ? "unavailable" : "bad-input", `building the skill's image failed: ${message.trim()}`, {
    hint: missingBase ? "build the local base image first: bash scripts/build-base-image.sh" : "fix the Dockerfile (docs/skills.md)",
  });
}

function messageOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    return typeof parsed.message === "string" ? parsed.message : undefined;
  } catch {
    return text.trim() || undefined;
  }
}
