import { describe, expect, it } from "vitest";
import { ScheduleError } from "./errors.ts";
import { planDueSlots, type MissedPolicy } from "./missed.ts";
import { compileSchedule } from "./schedule.ts";

const H = 3_600_000;
const M = 60_000;
const lastTick = Date.UTC(2026, 0, 1); // the 00:00 slot ran, then the daemon went down
const now = lastTick + 3 * H + 5 * M; // back at 03:05
const due = compileSchedule({ schedule: "0 * * * *" }).slotsBetween(lastTick, now); // 01:00, 02:00, 03:00

function expectPartition(plan: { fire: number[]; missed: number[] }, slots: number[]): void {
  expect([...plan.fire, ...plan.missed].sort((a, b) => a - b)).toEqual(slots);
  expect(plan.fire.filter((s) => plan.missed.includes(s))).toEqual([]);
}

describe("planDueSlots after 3 hours down on an hourly schedule, back at 3h05", () => {
  it("has three due slots, all late", () => {
    expect(due).toEqual([lastTick + H, lastTick + 2 * H, lastTick + 3 * H]);
  });

  it("skip fires none and records all three as missed", () => {
    expect(planDueSlots(due, now, "skip")).toEqual({ fire: [], missed: due, capped: false });
  });

  it("fire-once fires only the latest late slot", () => {
    expect(planDueSlots(due, now, "fire-once")).toEqual({
      fire: [lastTick + 3 * H],
      missed: [lastTick + H, lastTick + 2 * H],
      capped: false,
    });
  });

  it("catch_up with a 2h window fires the two slots within it", () => {
    expect(planDueSlots(due, now, { catch_up: 2 * H })).toEqual({
      fire: [lastTick + 2 * H, lastTick + 3 * H],
      missed: [lastTick + H],
      capped: false,
    });
  });
});

describe("planDueSlots", () => {
  const policies: MissedPolicy[] = ["skip", "fire-once", { catch_up: 30 * M }];

  it.each(policies)("always fires an on-time slot (%o)", (policy) => {
    const slot = now - 30_000;
    expect(planDueSlots([slot], now, policy)).toEqual({ fire: [slot], missed: [], capped: false });
  });

  it("treats a slot exactly grace old as on time and one just older as late", () => {
    expect(planDueSlots([now - M], now, "skip").fire).toEqual([now - M]);
    expect(planDueSlots([now - M - 1], now, "skip").missed).toEqual([now - M - 1]);
    expect(planDueSlots([now - 5 * M], now, "skip", { graceMs: 10 * M }).fire).toEqual([now - 5 * M]);
  });

  it("fire-once does not add a late run when a slot is on time, since that run stands for them", () => {
    const slots = [now - 2 * H, now - H, now - 10_000];
    expect(planDueSlots(slots, now, "fire-once")).toEqual({
      fire: [now - 10_000],
      missed: [now - 2 * H, now - H],
      capped: false,
    });
  });

  it("catch_up fires late slots in its window together with on-time ones", () => {
    const slots = [now - 2 * H, now - 20 * M, now - 10_000];
    expect(planDueSlots(slots, now, { catch_up: H }).fire).toEqual([now - 20 * M, now - 10_000]);
  });

  it("caps the fires, keeping the most recent and reporting the cap", () => {
    const slots = Array.from({ length: 10 }, (_, i) => now - (10 - i) * M); // 10m..1m ago
    const plan = planDueSlots(slots, now, { catch_up: H }, { cap: 3 });
    expect(plan.fire).toEqual([now - 3 * M, now - 2 * M, now - M]);
    expect(plan.missed).toHaveLength(7);
    expect(plan.capped).toBe(true);
    expectPartition(plan, slots);
    expect(planDueSlots(slots, now, { catch_up: H }).capped).toBe(false);
  });

  it("defaults the cap to 100 fires", () => {
    const slots = Array.from({ length: 150 }, (_, i) => now - (150 - i) * M);
    const plan = planDueSlots(slots, now, { catch_up: 24 * H });
    expect(plan.fire).toHaveLength(100);
    expect(plan.fire[0]).toBe(now - 100 * M);
    expect(plan.capped).toBe(true);
  });

  it.each(policies)("puts every due slot in exactly one of fire or missed (%o)", (policy) => {
    const slots = [now - 5 * H, now - 2 * H, now - 40 * M, now - 20 * M, now - 5 * M, now - 20_000, now];
    expectPartition(planDueSlots([...slots].reverse(), now, policy), slots);
  });

  it("returns empty lists when nothing is due", () => {
    expect(planDueSlots([], now, "fire-once")).toEqual({ fire: [], missed: [], capped: false });
  });

  it("rejects a slot after now and a bad catch-up window", () => {
    expect(() => planDueSlots([now + 1], now, "skip")).toThrow(/is after now/);
    expect(() => planDueSlots([], now, { catch_up: -1 })).toThrow(ScheduleError);
    expect(() => planDueSlots([], now, { catch_up: Number.NaN })).toThrow(/catch_up window/);
  });
});
