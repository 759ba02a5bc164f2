import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { tickSchedules } from "../../src/daemon/schedule-tick.ts";
import { openProject, type Project } from "../../src/project.ts";
import { listRuns } from "../../src/store/runs.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/** The scheduler over a real store, with time moved by an injected clock. */

afterAll(cleanupTemp);

const MIN = 60_000;

async function setUp(
  frontMatter: string,
  start: number,
): Promise<{ repo: string; clock: ManualClock; project: Project }> {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(repo, "nightly", `agent: command\ncommand: "true"\n${frontMatter}`);
  const clock = new ManualClock(start);
  return { repo, clock, project: await openProject(repo, { clock }) };
}

async function tick(project: Project, now: number) {
  return tickSchedules(project.store.db, [loadRoutine(project.root, "nightly")], { now, minIntervalMs: MIN });
}

describe("scheduler ticks", () => {
  it("two scheduler instances on one store over 1,440 minutes make exactly 1,440 runs; a clock set back adds none", async () => {
    const start = Date.UTC(2026, 0, 1, 0, 0, 30);
    const {
      repo,
      clock,
      project: a,
    } = await setUp("overlap: allow\ntriggers:\n  - schedule: '* * * * *'", start);
    const b = await openProject(repo, { clock }); // a second connection, as a second process would have
    await tick(a, clock.now());
    await tick(b, clock.now());
    for (let m = 0; m < 1440; m++) {
      clock.advance(MIN);
      await tick(m % 2 ? a : b, clock.now());
      await tick(m % 2 ? b : a, clock.now());
    }
    const runs = await listRuns(a.store.db, { limit: 5000 });
    expect(runs).toHaveLength(1440);
    expect(new Set(runs.map((r) => r.scheduled_for)).size).toBe(1440);
    expect(runs.every((r) => r.state === "pending")).toBe(true);
    // NTP steps the clock back an hour: the slots of that hour come round again, and nothing is added.
    const before = clock.now();
    for (let m = 0; m < 60; m++) {
      await tick(a, before - 60 * MIN + m * MIN);
      await tick(b, before - 60 * MIN + m * MIN);
    }
    expect(await listRuns(a.store.db, { limit: 5000 })).toHaveLength(1440);
    await a.close();
    await b.close();
  }, 120_000);

  for (const [policy, fired, missed] of [
    ["skip", 0, 3],
    ["fire-once", 1, 2],
    ["{catch_up: 2h}", 2, 1],
  ] as const) {
    it(`after 3 hours down, missed_runs: ${policy} fires ${fired} and records ${missed} as missed`, async () => {
      const start = Date.UTC(2026, 0, 1, 0, 0, 30);
      const { project } = await setUp(`missed_runs: ${policy}\ntriggers:\n  - schedule: hourly`, start);
      await tick(project, start);
      await tick(project, start + 3 * 60 * MIN + 5 * MIN); // 01:00, 02:00 and 03:00 fell due while down
      const runs = await listRuns(project.store.db);
      expect(runs.filter((r) => r.state === "pending")).toHaveLength(fired);
      const missedRuns = runs.filter((r) => r.state === "missed");
      expect(missedRuns).toHaveLength(missed);
      expect(missedRuns.every((r) => r.reason?.startsWith("missed: nightshift was not running"))).toBe(true);
      if (fired)
        expect(
          Math.max(...runs.filter((r) => r.state === "pending").map((r) => Number(r.scheduled_for))),
        ).toBe(Date.UTC(2026, 0, 1, 3));
      await project.close();
    });
  }

  it("fires 30 2 * * * in New York at 07:30Z on the spring-forward day 2025-03-09", async () => {
    const start = Date.UTC(2025, 2, 8, 12);
    const { project } = await setUp(
      "triggers:\n  - schedule: '30 2 * * *'\n    timezone: America/New_York",
      start,
    );
    await tick(project, start);
    for (let h = 1; h <= 48; h++) await tick(project, start + h * 60 * MIN);
    const slots = (await listRuns(project.store.db))
      .map((r) => new Date(Number(r.scheduled_for)).toISOString())
      .sort();
    expect(slots).toEqual(["2025-03-09T07:30:00.000Z", "2025-03-10T06:30:00.000Z"]);
    await project.close();
  });

  it("fires a one-off once and never again", async () => {
    const start = Date.UTC(2026, 0, 1);
    const { project } = await setUp("triggers:\n  - at: '2026-01-01T06:00:00Z'\n  - in: 2h", start);
    await tick(project, start);
    await tick(project, start + 2 * 60 * MIN + 1);
    expect((await listRuns(project.store.db)).map((r) => r.trigger)).toEqual(["once"]);
    for (let h = 3; h < 30; h++) await tick(project, start + h * 60 * MIN);
    const runs = await listRuns(project.store.db);
    expect(runs.map((r) => new Date(Number(r.scheduled_for)).toISOString()).sort()).toEqual([
      "2026-01-01T02:00:00.000Z",
      "2026-01-01T06:00:00.000Z",
    ]);
    await project.close();
  });
});
