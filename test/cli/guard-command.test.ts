import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { demotionComment } from "../../src/deque/guard/run.ts";
import {
  cleanupTemp,
  gitOut,
  makeRepo,
  runCli,
  writeFiles,
  localForgeOf,
  pushBranch,
} from "../support/project.ts";

afterAll(cleanupTemp);

interface Item {
  number: number;
  action: string;
  applied: boolean;
  reasons: string[];
}
const actions = (stdout: string) =>
  (JSON.parse(stdout) as { items: Item[] }).items.map((i) => [i.number, i.action, i.applied]);

describe("nightshift guard", () => {
  it("runs one pass over the project's forge: dry run, check filters, demotion, update, idempotence, errors", async () => {
    const repo = await makeRepo({ "app.txt": "version 1\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    await gitOut(repo, "add", ".nightshift");
    await gitOut(repo, "commit", "--quiet", "-m", "nightshift");

    // Two ready PRs from main's tip: #1 conflicts with what main does next; #2 has a failed
    // optional `lint` check and falls behind.
    const p = await openProject(repo);
    let bare: string;
    try {
      await p.forge.repo(p.repoName);
      bare = localForgeOf(p).barePath(p.repoName);
      const m0 = await gitOut(repo, "rev-parse", "main");
      await pushBranch(repo, bare, "conflict", m0, { "app.txt": "version 2 from the branch\n" });
      const okHead = await pushBranch(repo, bare, "feature", m0, { "feature.txt": "x\n" });
      writeFiles(repo, { "app.txt": "version 2 from main\n" });
      await gitOut(repo, "commit", "--quiet", "-am", "main moves on");
      await p.forge.repo(p.repoName);
      await localForgeOf(p).recordCheck(p.repoName, okHead, {
        name: "lint",
        status: "completed",
        conclusion: "failure",
        required: false,
      });
      for (const head of ["conflict", "feature"])
        await p.forge.createPullRequest(p.repoName, {
          title: `PR ${head}`,
          body: "",
          head,
          base: "main",
          draft: false,
          sessionId: null,
        });
    } finally {
      await p.close();
    }

    const dry = await runCli(repo, ["guard", "--dry-run", "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(actions(dry.stdout)).toEqual([
      [1, "demote", false],
      [2, "demote", false],
    ]);
    expect((JSON.parse(dry.stdout) as { items: Item[] }).items[1]!.reasons).toEqual([
      'check "lint" concluded failure',
    ]);
    const ignoring = await runCli(repo, ["guard", "--dry-run", "--json", "--ignore-check", "li*", "other"]);
    expect(actions(ignoring.stdout)).toEqual([
      [1, "demote", false],
      [2, "update_branch", false],
    ]);
    const requiredOnly = await runCli(repo, ["guard", "--dry-run", "--required-only", "--json"]);
    expect(actions(requiredOnly.stdout)).toEqual(actions(ignoring.stdout));
    const unchanged = JSON.parse((await runCli(repo, ["pr", "list", "--json"])).stdout) as {
      draft: boolean;
    }[];
    expect(unchanged.map((x) => x.draft)).toEqual([false, false]);

    const real = await runCli(repo, ["guard", "--ignore-check", "lint"]);
    expect(real.exitCode, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/repo\s+1\s+demoted to draft\s+PR conflict\s+conflicts with main/);
    expect(real.stdout).toMatch(
      /repo\s+2\s+branch updated\s+PR feature\s+behind main by 1 commit; merged main/,
    );
    expect(real.stdout).toContain(
      "2 open pull requests, 1 demoted, 1 updated, 0 waiting, 0 ok, 0 drafts skipped, 0 errors",
    );
    const list = JSON.parse((await runCli(repo, ["pr", "list", "--json"])).stdout) as {
      number: number;
      draft: boolean;
    }[];
    expect(list.map((x) => [x.number, x.draft])).toEqual([
      [1, true],
      [2, false],
    ]);

    // Second pass: #1 is a draft now, #2's new head (a merge commit) has no failed check.
    const again = await runCli(repo, ["guard", "--json"]);
    expect(again.exitCode).toBe(0);
    expect(actions(again.stdout)).toEqual([
      [1, "skip", false],
      [2, "none", false],
    ]);

    const after = await openProject(repo);
    try {
      const comments = await after.forge.listComments(after.repoName, 1);
      expect(comments.map((c) => c.body)).toEqual([demotionComment(["conflicts with main"])]);
      expect(await after.forge.listComments(after.repoName, 2)).toEqual([]);
    } finally {
      await after.close();
    }

    // A repository with no open pull requests.
    const other = await runCli(repo, ["guard", "--repo", "elsewhere"]);
    expect(other.exitCode).toBe(0);
    expect(other.stdout).toContain("no open pull requests");

    // A forge that cannot be read (the head commit's object is corrupt): the pass reports it and exits 1.
    const head = await gitOut(bare!, "rev-parse", "refs/heads/feature");
    const object = join(bare!, "objects", head.slice(0, 2), head.slice(2));
    chmodSync(object, 0o644);
    writeFileSync(object, "not a git object");
    const broken = await runCli(repo, ["guard"]);
    expect(broken.exitCode, broken.stdout + broken.stderr).toBe(1);
    expect(broken.stdout).toContain("errors:\n  could not list open pull requests of repo:");
  });
});
