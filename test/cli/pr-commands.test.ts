import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import {
  cleanupTemp,
  gitOut,
  makeRepo,
  runCli,
  writeFiles,
  localForgeOf,
  pushBranch,
} from "../support/project.ts";

/** `nightshift pr …` and `nightshift issue close|reopen` through the real CLI on the local forge. */

afterAll(cleanupTemp);

/**
 * A project whose forge has, in this order: #1 `conflict` (conflicts with main), #2
 * `feature` (one commit behind main), #3 `clean` (a draft from main's tip), plus `extra`
 * PRs from main's tip. `config` is appended to `.nightshift/config.yaml`.
 */
async function project(opts: { config?: string; extra?: Record<string, Record<string, string>> } = {}) {
  const repo = await makeRepo({ "app.txt": "version 1\n" });
  expect((await runCli(repo, ["init"])).exitCode).toBe(0);
  if (opts.config) appendFileSync(join(repo, ".nightshift", "config.yaml"), opts.config);
  await gitOut(repo, "add", ".nightshift");
  await gitOut(repo, "commit", "--quiet", "-m", "nightshift");
  const p = await openProject(repo);
  try {
    await p.forge.repo(p.repoName);
    const bare = localForgeOf(p).barePath(p.repoName);
    const m0 = await gitOut(repo, "rev-parse", "main");
    await pushBranch(repo, bare, "conflict", m0, { "app.txt": "version 2 from the branch\n" });
    const feature = await pushBranch(repo, bare, "feature", m0, { "feature.txt": "x\n" });
    writeFiles(repo, { "app.txt": "version 2 from main\n" });
    await gitOut(repo, "commit", "--quiet", "-am", "main moves on");
    await p.forge.repo(p.repoName);
    await pushBranch(repo, bare, "clean", "main", { "c.txt": "one\ntwo\n" });
    for (const [name, files] of Object.entries(opts.extra ?? {}))
      await pushBranch(repo, bare, name, "main", files);
    for (const head of ["conflict", "feature", "clean", ...Object.keys(opts.extra ?? {})])
      await p.forge.createPullRequest(p.repoName, {
        title: `PR ${head}`,
        body: `Changes on ${head}.`,
        head,
        base: "main",
        draft: head === "clean",
        sessionId: null,
      });
    return { repo, bare, feature, repoName: p.repoName };
  } finally {
    await p.close();
  }
}

interface Listed {
  number: number;
  draft: boolean;
  state: string;
  headSha: string;
  mergeable: boolean | null;
  mergeState: string;
  behindBy: number | null;
  checks: { name: string; conclusion: string | null }[];
}
const listJson = async (repo: string, ...args: string[]) =>
  JSON.parse((await runCli(repo, ["pr", "list", "--json", ...args])).stdout) as Listed[];

describe("nightshift pr", () => {
  it("lists status, shows checks, reviews, drafts, readies, updates and closes pull requests", async () => {
    const { repo, bare, feature, repoName } = await project();
    const p = await openProject(repo);
    try {
      await localForgeOf(p).recordCheck(repoName, feature, {
        name: "lint",
        status: "completed",
        conclusion: "failure",
        required: false,
        output: "app.txt:1 trailing space\nlint: 3 problems\n",
      });
    } finally {
      await p.close();
    }

    const text = await runCli(repo, ["pr", "list"]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/#\s+TITLE\s+HEAD\s+BASE\s+STATE\s+MERGEABLE\s+CHECKS/);
    expect(text.stdout).toMatch(/1\s+PR conflict\s+conflict\s+main\s+ready\s+conflict, 1 behind\s+—/);
    expect(text.stdout).toMatch(/2\s+PR feature\s+feature\s+main\s+ready\s+yes, 1 behind\s+1 failed/);
    expect(text.stdout).toMatch(/3\s+PR clean\s+clean\s+main\s+draft\s+yes\s+—/);
    const listed = await listJson(repo);
    expect(listed.map((x) => [x.number, x.mergeable, x.mergeState, x.behindBy])).toEqual([
      [1, false, "dirty", 1],
      [2, true, "behind", 1],
      [3, true, "draft", 0],
    ]);
    expect(listed[1]!.headSha).toBe(feature);

    const checks = await runCli(repo, ["pr", "checks", "2"]);
    expect(checks.exitCode).toBe(1);
    expect(checks.stdout).toMatch(
      /NAME\s+STATUS\s+CONCLUSION\s+REQUIRED\s+URL\nlint\s+completed\s+failure\s+no\s+—/,
    );
    expect(checks.stdout).toContain("lint: failure (last 2 lines)");
    expect(checks.stdout).toContain("lint: 3 problems");
    const checksJson = JSON.parse((await runCli(repo, ["pr", "checks", "2", "--json"])).stdout);
    expect(checksJson).toMatchObject({
      number: 2,
      headSha: feature,
      checks: [{ name: "lint", output: expect.stringContaining("3 problems") }],
    });
    const none = await runCli(repo, ["pr", "checks", "3"]);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toMatch(/^no checks on #3 \([0-9a-f]{10}\)$/);
    const runWithoutCi = await runCli(repo, ["pr", "checks", "3", "--run"]);
    expect(runWithoutCi.exitCode).toBe(2);
    expect(runWithoutCi.stderr).toContain("set forge.ci in .nightshift/config.yaml");

    // Draft and ready.
    expect((await runCli(repo, ["pr", "ready", "3"])).stdout).toBe("pull request #3 is ready for review");
    expect((await runCli(repo, ["pr", "draft", "1"])).stdout).toBe("pull request #1 is a draft");
    expect((await listJson(repo)).map((x) => [x.number, x.draft])).toEqual([
      [1, true],
      [2, false],
      [3, false],
    ]);

    // Review threads: a new one as the git user, a reply that resolves it, then show.
    await gitOut(repo, "config", "user.name", "Rita Reviewer");
    const review = await runCli(repo, ["pr", "review", "3", "--path", "c.txt", "--line", "2", "Why two?"]);
    expect(review.exitCode, review.stderr).toBe(0);
    const [, threadId] = /^commented on #3 at c\.txt:2 as Rita Reviewer \(thread (\w+)\)$/.exec(
      review.stdout,
    )!;
    const reply = await runCli(repo, [
      "pr",
      "review",
      "3",
      "--thread",
      threadId!,
      "--resolve",
      "--author",
      "bot",
      "Because.",
    ]);
    expect(reply.stdout).toBe(`commented on #3 at c.txt:2 as bot (thread ${threadId}, resolved)`);
    const shown = JSON.parse((await runCli(repo, ["pr", "show", "3", "--json"])).stdout);
    expect(shown).toMatchObject({ number: 3, mergeable: true, mergeState: "clean", comments: [] });
    expect(shown.reviewThreads).toEqual([
      {
        id: threadId,
        resolved: true,
        path: "c.txt",
        line: 2,
        comments: [
          expect.objectContaining({ author: "Rita Reviewer", body: "Why two?" }),
          expect.objectContaining({ author: "bot", body: "Because." }),
        ],
      },
    ]);
    const shownText = await runCli(repo, ["pr", "show", "3"]);
    expect(shownText.stdout).toContain("mergeable: yes  state: clean  checks: none  +2 −0 in 1 file");
    expect(shownText.stdout).toContain(`review thread ${threadId} at c.txt:2 (resolved)`);
    const noPlace = await runCli(repo, ["pr", "review", "3", "Where?"]);
    expect(noPlace.exitCode).toBe(2);
    expect(noPlace.stderr).toContain("needs --path and --line");

    // update-branch: a merge commit on the behind PR; then up to date; a conflict exits 1.
    const updated = await runCli(repo, ["pr", "update-branch", "2"]);
    expect(updated.exitCode, updated.stderr).toBe(0);
    const head = await gitOut(bare, "rev-parse", "refs/heads/feature");
    expect(updated.stdout).toBe(`updated #2: merged its base, head now ${head.slice(0, 10)}`);
    expect(await gitOut(bare, "rev-parse", `${head}^1`)).toBe(feature);
    expect((await listJson(repo)).find((x) => x.number === 2)).toMatchObject({
      behindBy: 0,
      mergeState: "clean",
    });
    const again = await runCli(repo, ["pr", "update-branch", "2"]);
    expect(again.stdout).toBe("#2 is up to date: feature already contains main");
    const stale = await runCli(repo, ["pr", "update-branch", "2", "--expected-head-sha", feature, "--json"]);
    expect(stale.exitCode).toBe(1);
    expect(JSON.parse(stale.stdout)).toMatchObject({ updated: false, reason: "head_moved" });
    const conflict = await runCli(repo, ["pr", "update-branch", "1"]);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toContain("cannot update #1 (conflict)");
    expect(conflict.stderr).toContain("app.txt");

    // close.
    expect((await runCli(repo, ["pr", "close", "3"])).stdout).toBe("closed pull request #3");
    expect((await listJson(repo, "--state", "closed")).map((x) => x.number)).toEqual([3]);
    expect((await listJson(repo)).map((x) => x.number)).toEqual([1, 2]);
    const readyClosed = await runCli(repo, ["pr", "ready", "3"]);
    expect(readyClosed.exitCode).toBe(2);
    expect(readyClosed.stderr).toContain("is closed");
    const checksClosed = await runCli(repo, ["pr", "checks", "3"]);
    expect(checksClosed.exitCode).toBe(1);
    expect(checksClosed.stderr).toContain("pull request #3 is closed");
    const missing = await runCli(repo, ["pr", "close", "9"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("has no pull request #9");
  }, 120_000);

  it("runs the project's CI command with pr checks --run and shows the results in pr list", async () => {
    const { repo } = await project({
      config: "forge:\n  type: local\n  ci: test -f ok\n",
      extra: { pass: { ok: "" } },
    });
    // #4 `pass` has the file; #3 `clean` has not.
    const before = await runCli(repo, ["pr", "list"]);
    expect(before.stdout).toMatch(/4\s+PR pass\s+pass\s+main\s+ready\s+yes\s+1 pending/);

    const pass = await runCli(repo, ["pr", "checks", "4", "--run"]);
    expect(pass.exitCode, pass.stderr).toBe(0);
    expect(pass.stderr).toContain("running `test -f ok` on #4");
    expect(pass.stdout).toMatch(/ci\s+completed\s+success\s+yes/);
    const fail = await runCli(repo, ["pr", "checks", "3", "--run"]);
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toMatch(/ci\s+completed\s+failure\s+yes/);
    expect(fail.stdout).toContain("[test -f ok: exit code 1]");

    const after = await runCli(repo, ["pr", "list"]);
    expect(after.stdout).toMatch(/3\s+PR clean\s+clean\s+main\s+draft\s+yes\s+1 failed/);
    expect(after.stdout).toMatch(/4\s+PR pass\s+pass\s+main\s+ready\s+yes\s+1 passed/);
    expect(after.stdout).toMatch(/2\s+PR feature\s+feature\s+main\s+ready\s+yes, 1 behind\s+1 pending/);
    expect((await listJson(repo)).find((x) => x.number === 4)).toMatchObject({
      mergeState: "clean",
      checks: [{ name: "ci", conclusion: "success" }],
    });
  }, 120_000);
});

describe("nightshift issue close and reopen", () => {
  it("closes with a comment and reopens", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    await runCli(repo, ["init"]);
    await runCli(repo, ["issue", "create", "--title", "Duplicate", "--author", "alice"]);
    const closed = await runCli(repo, ["issue", "close", "1", "--comment", "Same as #0.", "--author", "bob"]);
    expect(closed.stdout).toBe("closed issue #1");
    const shown = JSON.parse((await runCli(repo, ["issue", "show", "1", "--json"])).stdout);
    expect(shown).toMatchObject({ state: "closed", comments: [{ author: "bob", body: "Same as #0." }] });
    expect((await runCli(repo, ["issue", "list"])).stdout).toBe("no open issues");
    expect((await runCli(repo, ["issue", "reopen", "1"])).stdout).toBe("reopened issue #1");
    expect(JSON.parse((await runCli(repo, ["issue", "show", "1", "--json"])).stdout).state).toBe("open");
    const missing = await runCli(repo, ["issue", "close", "5"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("has no issue #5");
  }, 60_000);
});
