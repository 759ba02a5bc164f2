import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { claimItem, releaseItem } from "../../src/store/work-claims.ts";
import { ManualClock } from "../../src/util/clock.ts";
import {
  CLAIM_HEARTBEAT_MS,
  CLAIM_LEASE_MS,
  type HeldClaim,
  holdClaim,
  withClaim,
} from "../../src/deque/claims.ts";
import { runRoutineOnce } from "../../src/deque/run-routine.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

describe("work claims", () => {
  it("one live claim per item; an expired claim is taken over; release frees it", async () => {
    const repo = await makeRepo({ "a.txt": "a\n" });
    const project = await openProject(repo);
    const db = project.store.db;
    const c = { repo: "r", number: 7, now: 1_000, expiresAt: 5_000 };
    expect(await claimItem(db, { ...c, routine: "issue-oldest" })).toBe(true);
    expect(await claimItem(db, { ...c, routine: "issue-newest", now: 4_999 })).toBe(false);
    expect(await claimItem(db, { ...c, routine: "issue-newest", now: 5_000, expiresAt: 9_000 })).toBe(true);
    expect(await claimItem(db, { ...c, routine: "issue-oldest", now: 6_000 })).toBe(false);
    await releaseItem(db, "r", 7);
    expect(await claimItem(db, { ...c, routine: "issue-oldest", now: 6_000, expiresAt: 9_000 })).toBe(true);
    await project.close();
  });

  it("two issue agents running at once on a one-issue queue open exactly one PR", async () => {
    const repo = await makeRepo({
      "a.txt": "a\n",
      ".nightshift/config.yaml": "deque:\n  allowed_authors: [alice]\n",
    });
    const wf = (strategy: string) =>
      `agent: command\ncommand: "sleep 0.3; echo done >> a.txt"\nenvironment: default\nworkflow:\n  type: issue-agent\n  select:\n    strategy: ${strategy}`;
    writeRoutine(repo, "issue-oldest", wf("oldest"));
    writeRoutine(repo, "issue-newest", wf("newest"));
    const project = await openProject(repo);
    await project.forge.createIssue(project.repoName, { title: "One", body: "do it", author: "alice" });
    const [a, b] = await Promise.all(
      ["issue-oldest", "issue-newest"].map((n) =>
        runRoutineOnce(project, loadRoutine(repo, n), { hostEnv: { PATH: process.env.PATH } }),
      ),
    );
    const sessions = [...a!.sessions, ...b!.sessions];
    expect(sessions.map((s) => s.task_outcome)).toEqual(["pr_opened"]);
    const skipped = [...a!.skipped, ...b!.skipped];
    expect(skipped.map((s) => s.reason).join("\n")).toMatch(
      /another routine is working on it|already has open PR/,
    );
    expect(await project.forge.listPullRequests(project.repoName)).toHaveLength(1);
    await project.close();
  });

  it("with no allowlisted authors nothing is selected, what was filtered is recorded, and the run says why", async () => {
    const repo = await makeRepo({ "a.txt": "a\n" });
    writeRoutine(repo, "issue-oldest", 'agent: command\ncommand: "true"\nworkflow:\n  type: issue-agent');
    const project = await openProject(repo);
    await project.forge.createIssue(project.repoName, { title: "One", body: "do it", author: "alice" });
    const r = await runRoutineOnce(project, loadRoutine(repo, "issue-oldest"), {
      hostEnv: { PATH: process.env.PATH },
    });
    expect(r.sessions).toEqual([]);
    expect(r.filtered).toEqual([{ kind: "issue", number: 1, author: "alice" }]);
    expect(r.note).toMatch(/deque.allowed_authors .* is empty/);
    await project.close();
  });
});

describe("a claim's heartbeat", () => {
  async function setUp() {
    const repo = await makeRepo({ "a.txt": "a\n" });
    writeRoutine(repo, "issue-oldest", 'agent: command\ncommand: "true"\ntimeout: 30m');
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const project = await openProject(repo, { clock });
    return { project, clock, routine: loadRoutine(repo, "issue-oldest") };
  }

  /** Whether another routine could claim item 7 now. */
  const takeable = (project: Project) =>
    claimItem(project.store.db, {
      repo: "r",
      number: 7,
      routine: "issue-newest",
      now: project.clock.now(),
      expiresAt: project.clock.now() + 1,
    });

  it("holds the claim for as long as the session runs, past the old timeout + 10 min expiry, and releases it at the end", async () => {
    const { project, clock, routine } = await setUp();
    let finishSession!: () => void;
    const sessionEnds = new Promise<void>((resolve) => (finishSession = resolve));
    let started!: (claim: HeldClaim) => void;
    const claimed = new Promise<HeldClaim>((resolve) => (started = resolve));
    const running = withClaim(project, routine, "r", 7, async (claim) => {
      started(claim);
      await sessionEnds;
      return undefined;
    });
    const claim = await claimed;
    // Before: a claim lasted timeout + 10 min (40 min) and then anyone could take the item.
    const oldExpiry = clock.now() + routine.timeout + 10 * 60_000;
    while (clock.now() <= oldExpiry + CLAIM_LEASE_MS) {
      clock.advance(CLAIM_HEARTBEAT_MS);
      await claim.flush();
      expect(await takeable(project), new Date(clock.now()).toISOString()).toBe(false);
    }
    const row = await project.store.db.selectFrom("work_claims").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ routine: "issue-oldest", expires_at: clock.now() + CLAIM_LEASE_MS });
    expect(claim.live).toBe(true);
    finishSession();
    expect(await running).toBeUndefined();
    expect(await takeable(project)).toBe(true); // released at the end, not at expiry
    await project.close();
  });

  it("lapses one lease after the heartbeat stops (a holder that hung or died), and the old holder's release leaves the new claim alone", async () => {
    const { project, clock, routine } = await setUp();
    let finishSession!: () => void;
    const sessionEnds = new Promise<void>((resolve) => (finishSession = resolve));
    let started!: (claim: HeldClaim) => void;
    const claimed = new Promise<HeldClaim>((resolve) => (started = resolve));
    const running = withClaim(project, routine, "r", 7, async (claim) => {
      started(claim);
      await sessionEnds;
      return undefined;
    });
    const claim = await claimed;
    clock.advance(CLAIM_HEARTBEAT_MS);
    await claim.flush();
    const lastRenewal = clock.now();
    claim.stopHeartbeat();
    clock.advance(CLAIM_LEASE_MS - 1);
    expect(await takeable(project)).toBe(false);
    clock.advance(1);
    expect(clock.now()).toBe(lastRenewal + CLAIM_LEASE_MS);
    expect(await takeable(project)).toBe(true); // the item is free for the next routine
    finishSession();
    await running;
    const rows = await project.store.db.selectFrom("work_claims").selectAll().execute();
    expect(rows.map((r) => r.routine)).toEqual(["issue-newest"]);
    await project.close();
  });

  it("a holder whose claim lapsed and passed to another stops renewing it", async () => {
    const { project, clock } = await setUp();
    const claim = (await holdClaim(project, {
      repo: "r",
      number: 7,
      routine: "issue-oldest",
      heartbeatMs: 60_000,
      leaseMs: 30_000,
    }))!;
    // The heartbeat is slower than the lease (a stalled process): the claim lapses in between.
    clock.advance(30_000);
    expect(await takeable(project)).toBe(true);
    clock.advance(30_000);
    await claim.flush();
    expect(claim.live).toBe(false);
    const rows = await project.store.db.selectFrom("work_claims").selectAll().execute();
    expect(rows).toMatchObject([{ routine: "issue-newest", expires_at: clock.now() - 30_000 + 1 }]);
    await claim.release();
    expect(await project.store.db.selectFrom("work_claims").selectAll().execute()).toHaveLength(1);
    await project.close();
  });
});
