import { afterAll, describe, expect, it } from "vitest";
import { mergePullRequest } from "../../src/forge/local/merge.ts";
import { localForgeState } from "../../src/forge/local/state.ts";
import { openProject } from "../../src/project.ts";
import {
  cleanupTemp,
  gitOut,
  localForgeOf,
  makeRepo,
  pushBranch,
  runCli,
  tempDir,
  writeFiles,
} from "../support/project.ts";

/** `nightshift pr merge` and `LocalForgeAdmin.mergePullRequest` on the local forge: real git, real store, the real CLI. */

afterAll(cleanupTemp);

/**
 * A project whose forge has #1 `feature` (adds feature.txt, one commit behind main),
 * #2 `conflict` (changes app.txt, as main did), #3 `wip` (a draft), #4 `red` (adds red.txt).
 */
async function project() {
  const repo = await makeRepo({ "app.txt": "version 1\n" });
  expect((await runCli(repo, ["init"])).exitCode).toBe(0);
  await gitOut(repo, "add", ".nightshift");
  await gitOut(repo, "commit", "--quiet", "-m", "nightshift");
  const p = await openProject(repo);
  try {
    await p.forge.repo(p.repoName);
    const bare = localForgeOf(p).barePath(p.repoName);
    const m0 = await gitOut(repo, "rev-parse", "main");
    const feature = await pushBranch(repo, bare, "feature", m0, { "feature.txt": "new feature\n" });
    const conflict = await pushBranch(repo, bare, "conflict", m0, {
      "app.txt": "version 2 from the branch\n",
    });
    writeFiles(repo, { "app.txt": "version 2 from main\n" });
    await gitOut(repo, "commit", "--quiet", "-am", "main moves on");
    await p.forge.repo(p.repoName);
    const wip = await pushBranch(repo, bare, "wip", "main", { "wip.txt": "half done\n" });
    const red = await pushBranch(repo, bare, "red", "main", { "red.txt": "breaks the build\n" });
    for (const head of ["feature", "conflict", "wip", "red"])
      await p.forge.createPullRequest(p.repoName, {
        title: `PR ${head}`,
        body: `Changes on ${head}.`,
        head,
        base: "main",
        draft: head === "wip",
        sessionId: null,
      });
    return { repo, bare, repoName: p.repoName, shas: { feature, conflict, wip, red } };
  } finally {
    await p.close();
  }
}

describe("pr merge on the local forge", () => {
  it("merges a green PR with a merge commit and refuses failing, pending, draft, conflicting and closed ones", async () => {
    const { repo, bare, repoName, shas } = await project();
    const p = await openProject(repo);
    const forge = localForgeOf(p);
    try {
      await forge.recordCheck(repoName, shas.feature, {
        name: "ci",
        status: "completed",
        conclusion: "success",
        required: true,
      });
      await forge.recordCheck(repoName, shas.conflict, {
        name: "ci",
        status: "completed",
        conclusion: "success",
        required: true,
      });
      await forge.recordCheck(repoName, shas.red, {
        name: "ci",
        status: "completed",
        conclusion: "failure",
        required: true,
      });
    } finally {
      await p.close();
    }
    const mainBefore = await gitOut(bare, "rev-parse", "main");

    const ok = await runCli(repo, ["pr", "merge", "1"]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^merged #1 into main: merge commit [0-9a-f]{10}\n/);
    const mainAfter = await gitOut(bare, "rev-parse", "main");
    expect(ok.stdout).toContain(mainAfter.slice(0, 10));
    expect((await gitOut(bare, "rev-list", "--parents", "-n", "1", "main")).split(" ")).toEqual([
      mainAfter,
      mainBefore,
      shas.feature,
    ]);
    expect(await gitOut(bare, "show", "main:feature.txt")).toBe("new feature");
    expect(await gitOut(bare, "show", "main:app.txt")).toBe("version 2 from main");
    expect(await gitOut(bare, "log", "-1", "--format=%s", "main")).toBe("Merge pull request #1 from feature");
    const merged = JSON.parse((await runCli(repo, ["pr", "list", "--state", "merged", "--json"])).stdout) as {
      number: number;
    }[];
    expect(merged.map((x) => x.number)).toEqual([1]);

    // Failing checks.
    const red = await runCli(repo, ["pr", "merge", "4"]);
    expect(red.exitCode).toBe(1);
    expect(red.stderr).toContain("cannot merge #4 (checks failed): checks failed on");
    expect(red.stderr).toContain("ci (failure)");
    // A draft.
    const draft = await runCli(repo, ["pr", "merge", "3"]);
    expect(draft.exitCode).toBe(1);
    expect(draft.stderr).toContain("cannot merge #3 (draft): pull request #3 is a draft");
    // Conflicts (checks green).
    const conflict = await runCli(repo, ["pr", "merge", "2", "--json"]);
    expect(conflict.exitCode).toBe(1);
    expect(JSON.parse(conflict.stdout)).toMatchObject({
      merged: false,
      reason: "conflict",
      detail: expect.stringContaining("files changed on both sides: app.txt"),
    });
    // Pending: the draft made ready, its required ci check still running.
    expect((await runCli(repo, ["pr", "ready", "3"])).exitCode).toBe(0);
    const q = await openProject(repo);
    try {
      await localForgeOf(q).recordCheck(repoName, shas.wip, {
        name: "ci",
        status: "in_progress",
        conclusion: null,
        required: true,
      });
    } finally {
      await q.close();
    }
    const pending = await runCli(repo, ["pr", "merge", "3"]);
    expect(pending.exitCode).toBe(1);
    expect(pending.stderr).toContain("cannot merge #3 (checks pending): checks not finished on");
    expect(pending.stderr).toContain("ci (in_progress)");
    // Closed, and merged already.
    expect((await runCli(repo, ["pr", "close", "4"])).exitCode).toBe(0);
    expect((await runCli(repo, ["pr", "merge", "4"])).stderr).toContain("pull request #4 is closed");
    expect((await runCli(repo, ["pr", "merge", "1"])).stderr).toContain("pull request #1 is merged");
    // Nothing refused moved the base.
    expect(await gitOut(bare, "rev-parse", "main")).toBe(mainAfter);
    // The next session's publish keeps the merge while the user's main is only behind it...
    const again = await openProject(repo);
    try {
      expect((await again.forge.repo(again.repoName)).defaultBranchSha).toBe(mainAfter);
      expect(await gitOut(bare, "rev-parse", "main")).toBe(mainAfter);
      // ...and moves on once the user has pulled it and committed on top.
      await gitOut(repo, "pull", "--quiet", "--no-rebase", bare, "main");
      writeFiles(repo, { "after.txt": "after the merge\n" });
      await gitOut(repo, "add", "after.txt");
      await gitOut(repo, "commit", "--quiet", "-m", "after the merge");
      const userMain = await gitOut(repo, "rev-parse", "main");
      expect((await again.forge.repo(again.repoName)).defaultBranchSha).toBe(userMain);
      expect(await gitOut(bare, "rev-parse", `${userMain}^`)).toBe(mainAfter);
    } finally {
      await again.close();
    }
  }, 120_000);

  it("keeps a push to the base made between reading it and updating it (compare-and-swap)", async () => {
    const { repo, bare, repoName, shas } = await project();
    const p = await openProject(repo);
    try {
      const s = localForgeState({
        db: p.store.db,
        dir: localForgeOf(p)
          .barePath(repoName)
          .replace(/\/[^/]+\.git$/, ""),
        sources: [],
        clock: p.clock,
      });
      const before = await gitOut(bare, "rev-parse", "main");
      // Someone else pushes to main after the merge commit is made, before the base is updated.
      const other = tempDir();
      await gitOut(other, "clone", "--quiet", bare, "clone");
      const clone = `${other}/clone`;
      let pushed = "";
      const r = await mergePullRequest(s, repoName, 1, {
        beforeUpdate: async () => {
          writeFiles(clone, { "hotfix.txt": "urgent\n" });
          await gitOut(clone, "add", "--all");
          await gitOut(clone, "commit", "--quiet", "-m", "hotfix");
          await gitOut(clone, "push", "--quiet", "origin", "main");
          pushed = await gitOut(clone, "rev-parse", "HEAD");
        },
      });
      expect(r.merged).toBe(true);
      if (!r.merged) return;
      expect(pushed).not.toBe("");
      expect(r.baseBefore).toBe(pushed);
      const main = await gitOut(bare, "rev-parse", "main");
      expect(main).toBe(r.sha);
      expect((await gitOut(bare, "rev-list", "--parents", "-n", "1", "main")).split(" ")).toEqual([
        main,
        pushed,
        shas.feature,
      ]);
      expect(await gitOut(bare, "rev-parse", `${pushed}^`)).toBe(before);
      expect(await gitOut(bare, "show", "main:hotfix.txt")).toBe("urgent");
      expect(await gitOut(bare, "show", "main:feature.txt")).toBe("new feature");
      expect((await p.forge.getPullRequest(repoName, 1)).state).toBe("merged");
    } finally {
      await p.close();
    }
  }, 120_000);
});
