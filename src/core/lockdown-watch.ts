import type { LockdownStore } from "./lockdown.ts";

const POLL_MS = 200;

/**
 * Polls the persisted lockdown flag while a sandbox runs. Another process's lockdown kills our
 * container by label, but a container created in the instant after that sweep would survive it;
 * this watch closes that window from the running side.
 */
export class LockdownWatch {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: LockdownStore,
    private readonly onLockdown: () => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.store.isActive()) {
        this.stop();
        this.onLockdown();
      }
    }, POLL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
