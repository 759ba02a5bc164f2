import { describe, expect, it } from "vitest";
import { ManualClock } from "../../util/clock.ts";
import { cooldownFilter, DEFAULT_COOLDOWN_MS, latestAttempts, type Attempt } from "./rotation.ts";

const HOUR = 3_600_000;
const REPO = "acme/widgets";
const items = [1, 2, 3, 4].map((number) => ({ repo: REPO, number }));
const numbers = (xs: readonly { number: number }[]) => xs.map((x) => x.number);

describe("cooldownFilter", () => {
  it("defaults to a 24 h rest", () => {
    expect(DEFAULT_COOLDOWN_MS).toBe(24 * HOUR);
  });

  it("rests an item whose latest attempt failed within the window, and names when it may run again", () => {
    const clock = new ManualClock();
    const at = clock.now();
    const attempts: Attempt[] = [{ repo: REPO, number: 2, at, outcome: "failed" }];
    clock.advance(HOUR);
    const { kept, skipped } = cooldownFilter(items, attempts, { cooldownMs: 6 * HOUR, now: clock.now() });
    expect(numbers(kept)).toEqual([1, 3, 4]);
    expect(skipped).toEqual([
      {
        item: items[1],
        code: "cooling_down",
        reason: `cooling down until ${new Date(at + 6 * HOUR).toISOString()} after a failed attempt`,
      },
    ]);
    expect(skipped[0]!.reason).toBe("cooling down until 2026-01-01T06:00:00.000Z after a failed attempt");
  });

  it("rests an item whose latest attempt made no changes, with its own reason", () => {
    const attempts: Attempt[] = [{ repo: REPO, number: 3, at: 0, outcome: "no_changes" }];
    const { skipped } = cooldownFilter(items, attempts, { now: HOUR });
    expect(skipped.map((s) => [s.item.number, s.reason])).toEqual([
      [
        3,
        `cooling down until ${new Date(DEFAULT_COOLDOWN_MS).toISOString()} after an attempt that made no changes`,
      ],
    ]);
  });

  it("lets the item run again once the window has passed, from its exact end", () => {
    const attempts: Attempt[] = [{ repo: REPO, number: 2, at: 10 * HOUR, outcome: "failed" }];
    const at = (now: number) => numbers(cooldownFilter(items, attempts, { cooldownMs: HOUR, now }).kept);
    expect(at(11 * HOUR - 1)).toEqual([1, 3, 4]);
    expect(at(11 * HOUR)).toEqual([1, 2, 3, 4]);
    expect(at(30 * HOUR)).toEqual([1, 2, 3, 4]);
  });

  it("does not rest an item whose latest attempt succeeded", () => {
    const attempts: Attempt[] = [{ repo: REPO, number: 1, at: HOUR, outcome: "succeeded" }];
    expect(numbers(cooldownFilter(items, attempts, { now: 2 * HOUR }).kept)).toEqual([1, 2, 3, 4]);
  });

  it("counts only the most recent attempt per item, whatever the order of the list", () => {
    const attempts: Attempt[] = [
      { repo: REPO, number: 1, at: 5 * HOUR, outcome: "succeeded" }, // newer than its failure below
      { repo: REPO, number: 1, at: 4 * HOUR, outcome: "failed" },
      { repo: REPO, number: 2, at: 4 * HOUR, outcome: "succeeded" },
      { repo: REPO, number: 2, at: 5 * HOUR, outcome: "failed" }, // newer than its success
      { repo: REPO, number: 3, at: 5 * HOUR, outcome: "failed" },
      { repo: REPO, number: 3, at: 5 * HOUR, outcome: "succeeded" }, // same time: the later entry wins
    ];
    expect(numbers(cooldownFilter(items, attempts, { now: 6 * HOUR }).kept)).toEqual([1, 3, 4]);
    expect(latestAttempts(attempts).get("acme/widgets#3")?.outcome).toBe("succeeded");
  });

  it("matches attempts to items by repository (case-insensitively) and number", () => {
    const attempts: Attempt[] = [
      { repo: "ACME/Widgets", number: 1, at: 0, outcome: "failed" },
      { repo: "acme/other", number: 2, at: 0, outcome: "failed" },
    ];
    expect(numbers(cooldownFilter(items, attempts, { now: HOUR }).kept)).toEqual([2, 3, 4]);
  });

  it("turns rotation off with a cooldown of 0", () => {
    const attempts: Attempt[] = [{ repo: REPO, number: 1, at: HOUR, outcome: "failed" }];
    expect(numbers(cooldownFilter(items, attempts, { cooldownMs: 0, now: HOUR }).kept)).toEqual([1, 2, 3, 4]);
  });

  it("refuses a negative cooldown and a missing clock", () => {
    expect(() => cooldownFilter(items, [], { cooldownMs: -1, now: 0 })).toThrow(
      /cooldown must be 0 or more ms/,
    );
    expect(() => cooldownFilter(items, [], { now: Number.NaN })).toThrow(/now must be ms since the epoch/);
  });
});
