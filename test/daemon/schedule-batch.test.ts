import { afterAll, describe, expect, it } from "vitest";
import { loadRoutines } from "../../src/config/load.ts";
import { tickSchedules } from "../../src/daemon/schedule-tick.ts";
import { openProject, type Project } from "../../src/project.ts";
import { claimNextRun, listRuns } from "../../src/store/runs.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/** One tick firing many routines at once, in a few batched statements, over a real store. */

afterAll(cleanupTemp);

const MIN = 60_000;
const START = Date.UTC(2026, 0, 1, 0, 0, 30);

async function repoWith(routines: Record<string, string>): Promise<string> {
  const repo = await makeRepo({ "README.md": "x\n" });
  for (const [name, fm] of Object.entries(routines))
    writeRoutine(repo, name, `agent: command\ncommand: 'true'\n${fm}`);
  return repo;
}

function tick(project: Project, now: number) {
  return tickSchedules(project.store.db, loadRoutines(project.root).routines, { now, minIntervalMs: MIN });
}

describe("a batched scheduler tick", () => {
  it("fires 300 due routines with exactly one run per slot and moves every cursor", async () => {
    const routines: Record<string, string> = {};
    for (let i = 0; i < 300; i++)
      routines[`r${String(i).padStart(3, "0")}`] =
        `overlap: allow\nmax_concurrent: ${i % 4}\ntriggers:\n  - schedule: '${i % 2 ? "* * * * *" : "*/1 * * * *"}'\n    timezone: ${i % 3 ? "UTC" : "Europe/Berlin"}`;
    const repo = await repoWith(routines);
    const clock = new ManualClock(START);
    const project = await openProject(repo, { clock });
    expect((await tick(project, clock.now())).fired).toEqual([]);
    for (let m = 1; m <= 3; m++) {
      clock.advance(MIN);
      const report = await tick(project, clock.now());
      expect(report.fired).toHaveLength(300);
      expect(report.fired.every((f) => f.outcome === "queued" && f.slot === Date.UTC(2026, 0, 1, 0, m))).toBe(
        true,
      );
      // The same tick again (a retry, a second look) adds nothing.
      expect((await tick(project, clock.now())).fired).toEqual([]);
    }
    const runs = await listRuns(project.store.db, { limit: 2000 });
    expect(runs).toHaveLength(900);
    const slots = new Set(runs.map((r) => `${r.routine} ${r.scheduled_for}`));
    expect(slots.size).toBe(900);
    expect(runs.every((r) => r.state === "pending" && r.session_id !== null)).toBe(true);
    expect(runs.find((r) => r.routine === "r003")!.max_running).toBe(3);
    const cursors = await project.store.db.selectFrom("schedule_cursors").selectAll().execute();
    expect(cursors).toHaveLength(300);
    expect(cursors.every((c) => Number(c.considered_until) === clock.now())).toBe(true);
    await project.close();
  }, 60_000);

  it("two schedulers on one store firing the same slots make one run per slot", async () => {
    const routines: Record<string, string> = {};
    for (let i = 0; i < 50; i++)
      routines[`r${i}`] =
        "overlap: allow\ntriggers:\n  - schedule: '* * * * *'\n  - at: '2026-01-01T00:03:00Z'";
    const repo = await repoWith(routines);
    const clock = new ManualClock(START);
    const a = await openProject(repo, { clock });
    const b = await openProject(repo, { clock });
    await tick(a, clock.now());
    await tick(b, clock.now());
    let fired = 0;
    for (let m = 1; m <= 5; m++) {
      clock.advance(MIN);
      // Each sees every slot due (its own memo); the second finds the cursors moved, and the
      // one-off's run already stored.
      const [first, second] = m % 2 ? [a, b] : [b, a];
      fired += (await tick(first, clock.now())).fired.length;
      fired += (await tick(second, clock.now())).fired.length;
    }
    const runs = await listRuns(a.store.db, { limit: 2000 });
    expect(runs).toHaveLength(50 * 5 + 50);
    expect(fired).toBe(runs.length);
    expect(new Set(runs.map((r) => `${r.routine} ${r.dedupe_key}`)).size).toBe(runs.length);
    expect(runs.filter((r) => r.trigger === "once")).toHaveLength(50);
    await a.close();
    await b.close();
  }, 60_000);

  it("applies the overlap and missed-run policies in a batch as one fire after another would", async () => {
    const repo = await repoWith({
      forbid: "overlap: forbid\nmissed_runs: {catch_up: 3h}\ntriggers:\n  - schedule: hourly",
      queueone: "overlap: queue-one\nmissed_runs: {catch_up: 3h}\ntriggers:\n  - schedule: hourly",
      idle: "overlap: queue-one\nmissed_runs: {catch_up: 3h}\ntriggers:\n  - schedule: hourly",
    });
    const clock = new ManualClock(START);
    const project = await openProject(repo, { clock });
    await tick(project, START);
    // One slot each at 01:00, then `forbid` and `queueone` get a running session.
    await tick(project, Date.UTC(2026, 0, 1, 1, 0, 10));
    const now = Date.UTC(2026, 0, 1, 1, 0, 20);
    for (let i = 0; i < 3; i++)
      await claimNextRun(project.store.db, { owner: "w", now, leaseMs: 10 * 60 * MIN });
    const running = await project.store.db
      .selectFrom("runs")
      .select("routine")
      .where("state", "=", "running")
      .execute();
    expect(running.map((r) => r.routine).sort()).toEqual(["forbid", "idle", "queueone"]);
    await project.store.db
      .updateTable("runs")
      .set({ state: "done", lease_owner: null })
      .where("routine", "=", "idle")
      .execute();
    // Down for 4 hours: 02:00–05:00 due; catch_up 3h fires 03:00 and 04:00 (late) and 05:00, and
    // records 02:00 as missed.
    const report = await tick(project, Date.UTC(2026, 0, 1, 5, 0, 30));
    const outcomes = (name: string) => report.fired.filter((f) => f.routine === name).map((f) => f.outcome);
    expect(outcomes("forbid")).toEqual(["skipped", "skipped", "skipped"]);
    expect(outcomes("queueone")).toEqual(["queued", "skipped", "skipped"]);
    expect(outcomes("idle")).toEqual(["queued", "queued", "queued"]);
    expect(report.missed.map((m) => m.routine).sort()).toEqual(["forbid", "idle", "queueone"]);
    const skipped = (await listRuns(project.store.db, { limit: 100 })).filter((r) => r.state === "skipped");
    expect(skipped.filter((r) => r.routine === "queueone")[0]!.reason).toContain("queue-one");
    expect(skipped.filter((r) => r.routine === "forbid")[0]!.reason).toContain("forbid");
    await project.close();
  }, 60_000);
});
