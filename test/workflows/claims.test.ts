import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/runner/project.ts";
import { claimItem, releaseItem } from "../../src/store/work-claims.ts";
import { runRoutineOnce } from "../../src/workflows/run-routine.ts";
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
