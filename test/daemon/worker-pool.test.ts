import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { fireRoutine } from "../../src/queue/fire.ts";
import { WorkerPool } from "../../src/queue/worker-pool.ts";
import { openProject, type Project } from "../../src/project.ts";
import { claimNextRun, listRuns, type RunRow } from "../../src/store/runs.ts";
import { findSession, listSessions } from "../../src/store/sessions.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/** The durable queue and its workers over a real store, real git and real processes. */

afterAll(cleanupTemp);

async function setUp(command: string, extra = ""): Promise<{ project: Project; clock: ManualClock }> {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(repo, "job", `agent: command\ncommand: ${JSON.stringify(command)}\n${extra}`);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  return { project: await openProject(repo, { clock }), clock };
}

function fire(project: Project, key: string, extra: { context?: string } = {}) {
  return fireRoutine(project.store.db, {
    routine: loadRoutine(project.root, "job"),
    trigger: "api",
    dedupeKey: key,
    now: project.clock.now(),
    ...extra,
  });
}

/** Waits until `n` runs have finished in `pool` (an event the pool emits, not a sleep). */
function finished(pool: WorkerPool, n: number): Promise<{ run: RunRow; outcome: string }[]> {
  const seen: { run: RunRow; outcome: string }[] = [];
  return new Promise((resolve) =>
    pool.on("finished", (run, outcome) => {
      seen.push({ run, outcome });
      if (seen.length === n) resolve(seen);
    }),
  );
}

describe("the worker pool", () => {
  it("runs a fired run as a session with the announced id and the run's text", async () => {
    const { project } = await setUp('cat "$NIGHTSHIFT_PROMPT_FILE" > seen.md');
    const f = await fire(project, "k1", { context: "alert: disk full on db-3" });
    expect(f.outcome).toBe("queued");
    const pool = new WorkerPool(project, { concurrency: 2 });
    const done = finished(pool, 1);
    await pool.poll();
    expect((await done)[0]!.outcome).toBe("done");
    const session = await findSession(project.store.db, f.sessionId!);
    expect(session).toMatchObject({ state: "succeeded", trigger: "api", task_outcome: "pr_opened" });
    expect(await project.forge.pullRequestDiff(project.repoName, session!.pr_number!)).toContain(
      "+alert: disk full on db-3",
    );
    const [run] = await listRuns(project.store.db);
    expect(run).toMatchObject({ state: "done", attempt: 1, session_id: f.sessionId });
    await project.close();
  });

  it("a repeated dedupe key is one run", async () => {
    const { project } = await setUp("true", "overlap: allow");
    expect((await fire(project, "same")).outcome).toBe("queued");
    expect((await fire(project, "same")).outcome).toBe("duplicate");
    expect(await listRuns(project.store.db)).toHaveLength(1);
    await project.close();
  });

  it("two workers never claim the same run", async () => {
    const { project } = await setUp("true", "overlap: allow");
    for (let i = 0; i < 20; i++) await fire(project, `k${i}`);
    const claims = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        claimNextRun(project.store.db, { owner: `w${i % 2}`, now: project.clock.now(), leaseMs: 60_000 }),
      ),
    );
    const ids = claims.filter(Boolean).map((r) => r!.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    await project.close();
  });

  it("runs at most max_concurrent sessions of a routine at once, whatever the pool's size", async () => {
    const { project } = await setUp("true", "overlap: allow\nmax_concurrent: 2");
    for (let i = 0; i < 3; i++) await fire(project, `k${i}`);
    const claims = [];
    for (let i = 0; i < 3; i++)
      claims.push(
        await claimNextRun(project.store.db, { owner: "w", now: project.clock.now(), leaseMs: 60_000 }),
      );
    expect(claims.filter(Boolean)).toHaveLength(2);
    await project.close();
  });

  it("reclaims a run whose worker died once its lease expires, and counts the attempt", async () => {
    const { project, clock } = await setUp("true");
    await fire(project, "k");
    const dead = await claimNextRun(project.store.db, {
      owner: "worker-that-was-killed",
      now: clock.now(),
      leaseMs: 60_000,
    });
    expect(dead?.attempt).toBe(1);
    const pool = new WorkerPool(project, { concurrency: 1, leaseMs: 60_000, backoffMs: () => 30_000 });
    expect(await pool.poll()).toEqual([]); // the lease still holds
    clock.advance(60_001);
    expect(await pool.poll()).toEqual([]); // reclaimed, waiting out its backoff
    expect((await listRuns(project.store.db))[0]).toMatchObject({ state: "pending", attempt: 1 });
    expect((await listRuns(project.store.db))[0]!.reason).toContain("lease expired");
    clock.advance(30_000);
    const done = finished(pool, 1);
    expect((await pool.poll()).map((r) => r.attempt)).toEqual([2]);
    expect((await done)[0]!.outcome).toBe("done");
    expect((await listRuns(project.store.db))[0]).toMatchObject({ state: "done", attempt: 2 });
    await project.close();
  });

  it("retries an infrastructure failure once with backoff, but never the agent's own failure", async () => {
    const { project, clock } = await setUp("exit 3", "repos: [../does-not-exist]");
    await fire(project, "infra");
    const pool = new WorkerPool(project, { concurrency: 1, backoffMs: () => 10_000 });
    let done = finished(pool, 1);
    await pool.poll();
    expect((await done)[0]!.outcome).toBe("retry");
    clock.advance(10_000);
    done = finished(pool, 1);
    await pool.poll();
    expect((await done)[0]!.outcome).toBe("failed");
    expect((await listRuns(project.store.db))[0]).toMatchObject({ state: "failed", attempt: 2 });
    const sessions = await listSessions(project.store.db);
    expect(sessions.map((s) => s.infra_outcome)).toEqual(["workspace_error", "workspace_error"]);
    await project.close();

    const agentFails = await setUp("echo broken; exit 3");
    await fire(agentFails.project, "agent");
    const pool2 = new WorkerPool(agentFails.project, { concurrency: 1 });
    const done2 = finished(pool2, 1);
    await pool2.poll();
    expect((await done2)[0]!.outcome).toBe("done");
    expect((await listRuns(agentFails.project.store.db))[0]).toMatchObject({ state: "done", attempt: 1 });
    expect((await listSessions(agentFails.project.store.db))[0]).toMatchObject({
      state: "failed",
      task_outcome: "agent_error",
    });
    await agentFails.project.close();
  });

  it("replace cancels the running session and starts the new one; forbid records the fire as skipped", async () => {
    const { project, clock } = await setUp("echo started; sleep 30", "overlap: replace");
    const pool = new WorkerPool(project, { concurrency: 2 });
    const first = await fire(project, "first");
    const started = new Promise<void>((resolve) => pool.on("claimed", () => resolve()));
    const done = finished(pool, 1);
    await pool.poll();
    await started;
    const second = await fireRoutineWithPool(project, pool, "second");
    expect(second.replaced).toBe(1);
    clock.advance(5_000); // the grace between SIGTERM and SIGKILL, should the agent linger
    expect((await done)[0]).toMatchObject({ outcome: "cancelled" });
    expect(await findSession(project.store.db, first.sessionId!)).toMatchObject({ state: "cancelled" });
    await pool.stop(0);
    // Cancelled on purpose, not by the shutdown: it stays cancelled.
    expect((await listRuns(project.store.db)).find((r) => r.id === first.runId)).toMatchObject({
      state: "cancelled",
    });

    const forbid = await setUp("sleep 30", "overlap: forbid");
    const pool3 = new WorkerPool(forbid.project, { concurrency: 2 });
    await fire(forbid.project, "a");
    const claimed = new Promise<void>((resolve) => pool3.on("claimed", () => resolve()));
    await pool3.poll();
    await claimed;
    const skipped = await fire(forbid.project, "b");
    expect(skipped).toMatchObject({ outcome: "skipped" });
    expect(skipped.reason).toContain("overlap policy forbid");
    const stopping = pool3.stop(0);
    forbid.clock.advance(0); // no grace: the running session is stopped, its run requeued
    await stopping;
    expect((await listRuns(forbid.project.store.db)).map((r) => r.state).sort()).toEqual([
      "pending",
      "skipped",
    ]);
    await forbid.project.close();
    await project.close();
  });

  it("stop() lets a session finish within the grace period, then stops it and requeues its run uncounted", async () => {
    const { project, clock } = await setUp("sleep 30");
    const f = await fire(project, "k");
    const pool = new WorkerPool(project, { concurrency: 1 });
    const claimed = new Promise<void>((resolve) => pool.on("claimed", () => resolve()));
    const stoppedRun = finished(pool, 1);
    await pool.poll();
    await claimed;
    const stopping = pool.stop(60_000);
    clock.advance(59_999);
    expect(pool.active).toBe(1); // still within the grace period
    clock.advance(1);
    await stopping;
    expect((await stoppedRun)[0]!.outcome).toBe("requeued");
    const [run] = await listRuns(project.store.db);
    expect(run).toMatchObject({ state: "pending", attempt: 0, lease_owner: null, session_id: f.sessionId });
    expect(run!.reason).toMatch(/^stopped by daemon shutdown; requeued \(run \w+; attempt 1 not counted\)$/);
    expect(await findSession(project.store.db, f.sessionId!)).toMatchObject({
      state: "cancelled",
      infra_outcome: "cancelled",
      reason: run!.reason,
    });

    // The next daemon's pool runs it again: attempt 1 once more, as a new session (quick now).
    writeRoutine(project.root, "job", 'agent: command\ncommand: "echo ran > out.txt"');
    const next = new WorkerPool(project, { concurrency: 1 });
    const done = finished(next, 1);
    expect((await next.poll()).map((r) => r.attempt)).toEqual([1]);
    expect((await done)[0]!.outcome).toBe("done");
    const [after] = await listRuns(project.store.db);
    expect(after).toMatchObject({ state: "done", attempt: 1 });
    expect(after!.session_id).not.toBe(f.sessionId);
    expect(await findSession(project.store.db, after!.session_id!)).toMatchObject({
      state: "succeeded",
      task_outcome: "pr_opened",
    });
    await project.close();
  });

  it("does not retry an internal error: a bug or bad input fails the same way again", async () => {
    const { project } = await setUp("true");
    // Where sessions keep their files is a file, not a folder: every attempt would fail alike.
    const sessionsDir = join(project.stateDir, "sessions");
    rmSync(sessionsDir, { recursive: true, force: true });
    writeFileSync(sessionsDir, "not a folder\n");
    await fire(project, "k");
    const pool = new WorkerPool(project, { concurrency: 1, backoffMs: () => 0 });
    const done = finished(pool, 1);
    await pool.poll();
    expect((await done)[0]!.outcome).toBe("done");
    expect((await listRuns(project.store.db))[0]).toMatchObject({ state: "done", attempt: 1 });
    const sessions = await listSessions(project.store.db);
    expect(sessions.map((s) => [s.state, s.infra_outcome])).toEqual([["failed", "internal_error"]]);
    expect(await pool.poll()).toEqual([]); // nothing waits for another attempt
    await project.close();
  });
});

function fireRoutineWithPool(project: Project, pool: WorkerPool, key: string) {
  return fireRoutine(
    project.store.db,
    { routine: loadRoutine(project.root, "job"), trigger: "api", dedupeKey: key, now: project.clock.now() },
    { cancelRunning: (r) => pool.cancelRoutine(r) },
  );
}
