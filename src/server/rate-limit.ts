import type { Clock } from "../util/clock.ts";

/**
 * A fixed-window counter per key (an API token): at most `limit` hits per `windowMs`.
 * In memory, per process: enough to stop a runaway caller from filling the queue.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(opts: { limit: number; windowMs: number; clock: Clock }) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1)
      throw new Error("nightshift: rate limit must be a positive integer");
    this.#limit = opts.limit;
    this.#windowMs = opts.windowMs;
    this.#clock = opts.clock;
  }

  /**
   * Counts a hit for `key`.
   * @returns `0` when allowed, else the ms until the window resets (for `Retry-After`).
   */
  hit(key: string): number {
    const now = this.#clock.now();
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.#windowMs) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    if (w.count >= this.#limit) return w.start + this.#windowMs - now;
    w.count++;
    return 0;
  }
}
