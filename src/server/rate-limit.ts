/** How many failed authentications one address may make per window before it is refused. */
export interface FailureLimit {
  /** Failures allowed within `windowMs`; the next attempt is refused with 429. */
  limit: number;
  windowMs: number;
}

/** Upper bound on tracked addresses, so a flood of spoofed or rotating sources cannot grow memory without end. */
const MAX_TRACKED = 10_000;

/**
 * Counts failed authentications per client address in a sliding window. Once an address has
 * used up its failures it is refused (429) until the oldest failure leaves the window, even
 * with a valid token: guessing must not continue just because one guess was right.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly options: FailureLimit) {}

  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfterMs(address: string, now = Date.now()): number {
    const recent = this.recent(address, now);
    if (recent.length < this.options.limit) return 0;
    const oldest = recent[recent.length - this.options.limit] ?? now;
    return Math.max(1, oldest + this.options.windowMs - now);
  }

  /** Records one failed attempt from `address`. */
  fail(address: string, now = Date.now()): void {
    const recent = this.recent(address, now);
    recent.push(now);
    // Only the last `limit` failures matter for the decision.
    this.failures.delete(address);
    this.failures.set(address, recent.slice(-this.options.limit));
    if (this.failures.size > MAX_TRACKED) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  private recent(address: string, now: number): number[] {
    const times = (this.failures.get(address) ?? []).filter((time) => now - time < this.options.windowMs);
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
