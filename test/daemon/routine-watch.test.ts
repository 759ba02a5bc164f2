import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { createDaemonScheduler, type DaemonScheduler } from "../../src/daemon/daemon-scheduler.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { openProject, type Project } from "../../src/project.ts";
import { listRuns } from "../../src/store/runs.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/**
 * The daemon's scheduler over real routine files and a real store: files added, edited and
 * removed while it runs take effect on the next tick; an unchanged folder is not read again.
 * Time is moved by a ManualClock; only fs.watch events are waited for (bounded polls).
 */

afterAll(cleanupTemp);

const MIN = 60_000;
const EVERY_MINUTE = "agent: command\ncommand: 'true'\noverlap: allow\ntriggers:\n  - schedule: '* * * * *'";

interface Setup {
  repo: string;
  clock: ManualClock;
  project: Project;
  scheduler: DaemonScheduler;
  logLines: string[];
}

async function setUp(routines: Record<string, string>): Promise<Setup> {
  const repo = await makeRepo({ "README.md": "x\n" });
  for (const [name, fm] of Object.entries(routines)) writeRoutine(repo, name, fm);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 30));
  const project = await openProject(repo, { clock });
  const logLines: string[] = [];
  const logger = createLogger({
    destination: { write: (l: string) => void logLines.push(l) },
    pretty: false,
  });
  const scheduler = createDaemonScheduler(project, { logger });
  return { repo, clock, project, scheduler, logLines };
}

/** Waits (bounded) until the watcher has received more events than `before`. */
async function eventAfter(s: Setup, before: number): Promise<void> {
  for (let i = 0; i < 500 && s.scheduler.watcher.stats.events <= before; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(s.scheduler.watcher.stats.events).toBeGreaterThan(before);
}

/** Runs a file change, then waits for its watch event. */
async function change(s: Setup, fn: () => void): Promise<void> {
  const before = s.scheduler.watcher.stats.events;
  fn();
  await eventAfter(s, before);
}

async function runsBy(project: Project): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await listRuns(project.store.db, { limit: 1000 }))
    out[r.routine] = (out[r.routine] ?? 0) + 1;
  return out;
}

async function tearDown(s: Setup): Promise<void> {
  s.scheduler.close();
  await s.project.close();
}

describe("the routines watcher in the daemon's scheduler", () => {
  it("takes a routine file added, edited and removed while it runs into account on the next tick", async () => {
    const s = await setUp({ nightly: EVERY_MINUTE });
    await s.scheduler.tick(); // cursors start now
    s.clock.advance(MIN);
    await s.scheduler.tick();
    expect(await runsBy(s.project)).toEqual({ nightly: 1 });

    // Added: seen on the next tick (its cursor starts then), fires from the minute after.
    await change(s, () => writeRoutine(s.repo, "second", EVERY_MINUTE));
    const t = await s.scheduler.tick();
    expect(t.report.fired).toEqual([]);
    s.clock.advance(MIN);
    await s.scheduler.tick();
    expect(await runsBy(s.project)).toEqual({ nightly: 2, second: 1 });

    // Edited: `second` becomes hourly, so the next minute fires only `nightly`.
    await change(s, () =>
      writeRoutine(s.repo, "second", EVERY_MINUTE.replace("'* * * * *'", "hourly"), "Changed."),
    );
    s.clock.advance(MIN);
    await s.scheduler.tick();
    expect(await runsBy(s.project)).toEqual({ nightly: 3, second: 1 });

    // Removed: `nightly` fires no more.
    await change(s, () => rmSync(`${s.repo}/.nightshift/routines/nightly.md`));
    s.clock.advance(MIN);
    const after = await s.scheduler.tick();
    expect(after.report.fired).toEqual([]);
    expect(s.scheduler.watcher.current().routines.map((r) => r.name)).toEqual(["second"]);
    expect(await runsBy(s.project)).toEqual({ nightly: 3, second: 1 });
    await tearDown(s);
  });

  it("reports an invalid routine file as before: once while it stays invalid, skipped, the rest still firing", async () => {
    const s = await setUp({ nightly: EVERY_MINUTE });
    await s.scheduler.tick();
    await change(s, () => writeRoutine(s.repo, "broken", "agent: command\ntriggers: 12"));
    for (let m = 1; m <= 3; m++) {
      s.clock.advance(MIN);
      const t = await s.scheduler.tick();
      expect(t.loadErrors.map((e) => e.message)).toEqual([expect.stringContaining("broken.md")]);
    }
    const warned = s.logLines.filter((l) => l.includes("invalid routine file skipped"));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("broken.md");
    expect(await runsBy(s.project)).toEqual({ nightly: 3 });
    // Fixed: no error any more; the routine is scheduled.
    await change(s, () => writeRoutine(s.repo, "broken", EVERY_MINUTE));
    s.clock.advance(MIN);
    expect((await s.scheduler.tick()).loadErrors).toEqual([]);
    s.clock.advance(MIN);
    await s.scheduler.tick();
    expect(await runsBy(s.project)).toEqual({ nightly: 5, broken: 1 });
    await tearDown(s);
  });

  it("reads no file again while the folder is unchanged, full checks included", async () => {
    const s = await setUp({ a: EVERY_MINUTE, b: EVERY_MINUTE, c: EVERY_MINUTE });
    await s.scheduler.tick();
    const loaded = s.scheduler.watcher.stats;
    expect(loaded.parses).toBe(3);
    for (let i = 0; i < 36; i++) {
      s.clock.advance(5_000); // three minutes of 5 s ticks: three full checks
      await s.scheduler.tick();
    }
    const after = s.scheduler.watcher.stats;
    expect(after.parses).toBe(3);
    expect(after.fullChecks).toBe(loaded.fullChecks + 3);
    expect(await runsBy(s.project)).toEqual({ a: 3, b: 3, c: 3 });
    await tearDown(s);
  });

  it("does not notice content replaced under the same mtime and size until the file really changes", async () => {
    const s = await setUp({ nightly: EVERY_MINUTE });
    const file = `${s.repo}/.nightshift/routines/nightly.md`;
    // A whole-second mtime, so that it can be put back exactly.
    const mtime = Math.floor(Date.now() / 1000) - 3600;
    utimesSync(file, mtime, mtime);
    await s.scheduler.tick();
    const text = readFileSync(file, "utf8");
    // Same length, invalid YAML; mtime put back: to (mtime, size) the file is unchanged.
    const garbled = text.replace("triggers:", "triggers;");
    expect(garbled.length).toBe(text.length);
    await change(s, () => {
      writeFileSync(file, garbled);
      utimesSync(file, mtime, mtime);
      expect(statSync(file).mtimeMs).toBe(mtime * 1000);
    });
    s.clock.advance(2 * MIN); // a full check included
    const t = await s.scheduler.tick();
    expect(t.loadErrors).toEqual([]);
    expect(t.report.fired.map((f) => f.routine)).toEqual(["nightly"]);
    expect(s.scheduler.watcher.stats.parses).toBe(1);
    // A real change (another size) is read, and the garbled file reported.
    await change(s, () => writeFileSync(file, `${garbled}\nMore.\n`));
    s.clock.advance(MIN);
    const t2 = await s.scheduler.tick();
    expect(s.scheduler.watcher.stats.parses).toBe(2);
    expect(t2.loadErrors).toHaveLength(1);
    expect(t2.report.fired).toEqual([]);
    await tearDown(s);
  });
});
