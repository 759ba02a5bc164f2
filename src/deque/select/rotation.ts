import { itemKey } from "./item.ts";

import { DEFAULT_COOLDOWN_MS } from "../../config/deque-schema.ts";

export { DEFAULT_COOLDOWN_MS };

/** How an earlier session's attempt at an item ended. */
export type AttemptOutcome = "succeeded" | "failed" | "no_changes";

/** One earlier attempt at an item. `at` is when it ended, in ms since the epoch. */
export interface Attempt {
  repo: string;
  number: number;
  at: number;
  outcome: AttemptOutcome;
}

/**
 * Why an item was left out, for counting and filtering:
 * `duplicate` (listed twice), `closed` (its `state` is not `open`), `repo`, `author`,
 * `label_missing` (lacks a `labels.include` label), `label_excluded` (has a `labels.exclude`
 * label), `cooling_down` (see {@link cooldownFilter}).
 */
export type SkipCode =
  "duplicate" | "closed" | "repo" | "author" | "label_missing" | "label_excluded" | "cooling_down";

/** An item left out of a selection, and why (`reason`: one sentence for the session record). */
export interface Skipped<T> {
  item: T;
  code: SkipCode;
  reason: string;
}

/**
 * The latest attempt at each item, keyed by {@link itemKey}: the greatest `at`; of attempts
 * with the same `at`, the one later in the array.
 */
export function latestAttempts(attempts: readonly Attempt[]): Map<string, Attempt> {
  const latest = new Map<string, Attempt>();
  for (const attempt of attempts) {
    const key = itemKey(attempt.repo, attempt.number);
    const seen = latest.get(key);
    if (!seen || attempt.at >= seen.at) latest.set(key, attempt);
  }
  return latest;
}

/**
 * Rotation past hard items, so one item that keeps failing cannot starve the queue: an item
 * whose latest attempt `failed` or made `no_changes` rests until `at + cooldownMs`, and the
 * strategy picks the next item meanwhile. Only the latest attempt counts: a success after a
 * failure ends the rest, a failure after a success starts one. At exactly `at + cooldownMs`
 * the item is eligible again. `cooldownMs` 0 turns rotation off.
 *
 * @param now the current time, ms since the epoch (from the injected clock).
 * @throws RangeError when `cooldownMs` is negative or not finite, or `now` is not finite.
 */
export function cooldownFilter<T extends { repo: string; number: number }>(
  items: readonly T[],
  attempts: readonly Attempt[],
  opts: { cooldownMs?: number; now: number },
): { kept: T[]; skipped: Skipped<T>[] } {
  const cooldownMs = opts.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  if (!Number.isFinite(cooldownMs) || cooldownMs < 0) {
    throw new RangeError(`cooldown must be 0 or more ms; got ${cooldownMs}`);
  }
  if (!Number.isFinite(opts.now)) throw new RangeError(`now must be ms since the epoch; got ${opts.now}`);
  const latest = latestAttempts(attempts);
  const kept: T[] = [];
  const skipped: Skipped<T>[] = [];
  for (const item of items) {
    const last = latest.get(itemKey(item.repo, item.number));
    const until = last ? last.at + cooldownMs : -Infinity;
    if (last && last.outcome !== "succeeded" && opts.now < until) {
      const after = last.outcome === "failed" ? "a failed attempt" : "an attempt that made no changes";
      skipped.push({
        item,
        code: "cooling_down",
        reason: `cooling down until ${new Date(until).toISOString()} after ${after}`,
      });
    } else {
      kept.push(item);
    }
  }
  return { kept, skipped };
}
