import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { markLateRuns } from "../../src/daemon/watchdog.ts";
import { fireRoutine } from "../../src/queue/fire.ts";
import { openProject } from "../../src/project.ts";
import { listRuns } from "../../src/store/runs.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

describe("the watchdog", () => {
  it("marks a fired run whose session has not started within the deadline as late, once", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "job", 'agent: command\ncommand: "true"\noverlap: allow');
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const project = await openProject(repo, { clock });
    const routine = loadRoutine(repo, "job");
    await fireRoutine(project.store.db, { routine, trigger: "schedule", dedupeKey: "a", now: clock.now() });
    clock.advance(9 * 60_000);
    await fireRoutine(project.store.db, { routine, trigger: "schedule", dedupeKey: "b", now: clock.now() });
    clock.advance(2 * 60_000);
    const late = await markLateRuns(project.store.db, clock.now(), 10 * 60_000);
    expect(late.map((r) => r.dedupe_key)).toEqual(["a"]);
    expect(await markLateRuns(project.store.db, clock.now(), 10 * 60_000)).toEqual([]); // once
    const runs = await listRuns(project.store.db);
    expect(runs.find((r) => r.dedupe_key === "a")?.reason).toMatch(
      /^late: fired at 2026-01-01T00:00:00.000Z and not started within 600s/,
    );
    expect(runs.find((r) => r.dedupe_key === "b")?.reason).toBeNull();
    await project.close();
  });
});
