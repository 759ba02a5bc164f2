import { describe, expect, it } from "vitest";
import { decideOverlap, type OverlapPolicy } from "./overlap.ts";

const idle = { running: 0, queued: 0 };
const busy = { running: 1, queued: 0 };
const busyQueued = { running: 1, queued: 1 };

describe("decideOverlap", () => {
  it.each([
    ["allow", idle, "start"],
    ["allow", busy, "start"],
    ["allow", busyQueued, "start"],
    ["forbid", idle, "start"],
    ["forbid", busy, "skip"],
    ["forbid", busyQueued, "skip"],
    ["replace", idle, "start"],
    ["replace", busy, "replace"],
    ["replace", busyQueued, "replace"],
    ["queue-one", idle, "start"],
    ["queue-one", busy, "queue"],
    ["queue-one", busyQueued, "skip"],
  ] as const)("%s with %o → %s", (policy, state, expected) => {
    expect(decideOverlap(policy, state)).toBe(expected);
  });

  it("counts several running sessions as running", () => {
    expect(decideOverlap("forbid", { running: 3, queued: 0 })).toBe("skip");
    expect(decideOverlap("queue-one", { running: 2, queued: 0 })).toBe("queue");
  });

  it("rejects an unknown policy with the valid ones", () => {
    expect(() => decideOverlap("parallel" as OverlapPolicy, idle)).toThrow(
      'unknown overlap policy "parallel"; use allow, forbid, replace or queue-one',
    );
  });
});
