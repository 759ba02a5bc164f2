import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { LocalForge } from "../../src/forge/local/local-forge.ts";
import { openProject } from "../../src/project.ts";
import { openStore } from "../../src/store/db.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { runRoutineOnce } from "../../src/deque/run-routine.ts";
import { FakeGithub, fakeThrottle } from "../support/fake-github/index.ts";
import {
  cleanupTemp,
  gitOut,
  makeRepo,
  pushBranch,
  runCli,
  tempDir,
  writeRoutine,
} from "../support/project.ts";

/**
 * A nightshift PR merged by hand, on the real local forge (real git, SQLite, the real CLI and
 * a `command` agent): the forge marks it merged, the guard leaves it alone, the issue agent
 * takes the issue as resolved — until an allowlisted person comments — and never lists the
 * merged PR as an attempt "closed without merging". The same rule on GitHub (the real adapter
 * against the fake GitHub), where the merge is GitHub's.
 */

afterAll(cleanupTemp);

describe("a PR merged by hand", () => {
  it("is merged for the forge, skipped by the guard, and resolves its issue until someone asks for more", async () => {
    const repo = await makeRepo({
      "a.txt": "a\n",
      ".nightshift/config.yaml": "deque:\n  allowed_authors: [alice]\n",
    });
    // The agent keeps the prompt it was given, so the PR's diff shows what it was told.
    writeRoutine(
      repo,
      "issue-oldest",
      [
        "agent: command",
        `command: 'cp "$NIGHTSHIFT_PROMPT_FILE" prompt-seen.md; date +%s%N >> work.txt'`,
        "workflow:",
        "  type: issue-agent",
      ].join("\n"),
    );
    const cli = (...args: string[]) => runCli(repo, args);
    const json = async (...args: string[]) => {
      const r = await cli(...args, "--json");
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const bare = join(repo, ".nightshift", "state", "forge", `${repo.split("/").at(-1)}.git`);

    expect((await cli("issue", "create", "--title", "Record the work", "--author", "alice")).exitCode).toBe(
      0,
    );
    const first = await cli("run", "issue-oldest");
    expect(first.exitCode, first.stderr).toBe(0);
    const [pr] = await json("pr", "list");
    expect(pr).toMatchObject({ number: 2, state: "open", draft: true });
    // Titles are for people: the issue's title, no session tag (the id is in the body and trailers).
    expect(pr.title).toBe("Record the work");
    const message = await gitOut(bare, "log", "-1", "--format=%B", pr.head);
    expect(message).not.toContain("[ns:");
    expect(message.split("\n")[0]).toBe("Record the work");
    expect(message).toContain(`Nightshift-Session: ${pr.sessionId}`);
    expect((await cli("pr", "ready", "2")).exitCode).toBe(0);

    // A person merges the branch into main in their repository (not yet published to the forge).
    await gitOut(repo, "fetch", "--quiet", bare, pr.head);
    await gitOut(repo, "merge", "--quiet", "--no-ff", "-m", "Merge the work", "FETCH_HEAD");

    // The guard sees no open PR to judge: the merged one is neither "mergeable" nor updated.
    const guard = await json("guard");
    expect(guard.items).toEqual([]);
    expect(await json("pr", "show", "2")).toMatchObject({ state: "merged" });
    expect(await json("pr", "list")).toEqual([]);
    expect((await json("pr", "list", "--state", "merged")).map((p: { number: number }) => p.number)).toEqual([
      2,
    ]);

    // The issue is still open, but its merged PR resolves it: no session, no branch, no PR.
    const sessionsBefore = (await json("sessions", "list")).length;
    const again = await cli("run", "issue-oldest");
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/resolved by merged PR #2/);
    expect((await json("sessions", "list")).length).toBe(sessionsBefore);
    expect(await json("pr", "list", "--state", "all")).toHaveLength(1);

    // A comment by someone not allowlisted changes nothing; alice's asks for another attempt.
    await cli("issue", "comment", "1", "--author", "mallory", "--body", "do it again");
    expect((await cli("run", "issue-oldest")).stdout).toMatch(/resolved by merged PR #2/);
    await cli("issue", "comment", "1", "--author", "alice", "--body", "Also record the date of the merge.");
    const third = await cli("run", "issue-oldest");
    expect(third.exitCode, third.stderr).toBe(0);
    const open = await json("pr", "list");
    expect(open).toHaveLength(1);
    const prompt = await gitOut(bare, "show", `${open[0].head}:prompt-seen.md`);
    expect(prompt).toContain("Also record the date of the merge.");
    expect(prompt).toContain("## Merged earlier");
    expect(prompt).toContain("PR #2: Record the work");
    expect(prompt).not.toContain("closed without merging");
    expect(prompt).not.toContain("do it again");
  });

  it("the local forge marks a PR merged once its head is reachable from the base, and keeps it so", async () => {
    const dir = tempDir();
    const src = await makeRepo({ "a.txt": "a\n" }, join(dir, "demo"));
    const store = await openStore(join(dir, "nightshift.db"));
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const forge = new LocalForge({
      db: store.db,
      dir: join(dir, "forge"),
      sources: [{ name: "demo", path: src }],
      clock,
    });
    await forge.repo("demo");
    const bare = forge.barePath("demo");
    const open = async (head: string) =>
      (
        await forge.createPullRequest("demo", {
          title: head,
          body: "",
          head,
          base: "main",
          draft: false,
          sessionId: null,
        })
      ).number;
    const m0 = await gitOut(src, "rev-parse", "main");
    await pushBranch(src, bare, "ff", m0, { "ff.txt": "x\n" });
    await pushBranch(src, bare, "kept", m0, { "kept.txt": "x\n" });
    const ff = await open("ff");
    const kept = await open("kept");
    expect((await forge.listPullRequestStatuses("demo")).map((s) => s.number)).toEqual([ff, kept]);

    // A fast-forward of main onto `ff`, published to the forge.
    await gitOut(src, "merge", "--quiet", "--ff-only", "ff");
    clock.advance(60_000);
    await forge.repo("demo");
    expect((await forge.listPullRequestStatuses("demo")).map((s) => s.number)).toEqual([kept]);
    expect(await forge.getPullRequest("demo", ff)).toMatchObject({ state: "merged", updatedAt: clock.now() });
    await expect(forge.closePullRequest("demo", ff)).rejects.toThrow(/is merged and cannot be closed/);
    await expect(forge.setDraft("demo", ff, true)).rejects.toThrow(/is merged; only open pull requests/);

    // Merged is final, even if main is later reset behind it.
    await gitOut(src, "reset", "--quiet", "--hard", m0);
    await forge.repo("demo");
    expect((await forge.listPullRequests("demo", { state: "merged" })).map((p) => p.number)).toEqual([ff]);
    expect(await forge.getPullRequest("demo", kept)).toMatchObject({ state: "open" });
    await store.close();
  });

  it("on GitHub, a merged nightshift PR resolves its issue and is never an earlier attempt", async () => {
    let now = Date.UTC(2026, 0, 1);
    const fake = await FakeGithub.start({ now: () => now });
    try {
      await fake.createRepo("acme/widgets", { files: { "a.txt": "a\n" } });
      const gitUrl = fake.gitUrl("acme", "widgets").replace("acme", "{owner}").replace("widgets", "{repo}");
      const root = await makeRepo({
        "README.md": "the user's clone\n",
        ".nightshift/config.yaml": [
          "forge:",
          "  type: github",
          "  repo: acme/widgets",
          `  api_url: ${fake.url}`,
          `  git_url: ${gitUrl}`,
          "deque:",
          "  allowed_authors: [alice]",
          "",
        ].join("\n"),
      });
      writeRoutine(
        root,
        "issue-oldest",
        [
          "agent: command",
          `command: 'cp "$NIGHTSHIFT_PROMPT_FILE" prompt-seen.md; date +%s%N >> work.txt'`,
          "workflow:",
          "  type: issue-agent",
        ].join("\n"),
      );
      const project = await openProject(root, {
        env: { GITHUB_TOKEN: "fake-token" },
        githubThrottle: fakeThrottle(),
      });
      const run = () =>
        runRoutineOnce(project, loadRoutine(root, "issue-oldest"), { hostEnv: { PATH: process.env.PATH } });
      try {
        const issue = fake.createIssue("acme/widgets", {
          title: "Count the work",
          body: "Do it.",
          user: "alice",
        });
        const first = await run();
        expect(first.sessions.map((x) => x.task_outcome)).toEqual(["pr_opened"]);
        const number = first.sessions[0]!.pr_number!;
        expect(fake.pull("acme/widgets", number).title).toBe("Count the work");
        now += 60_000;
        await fake.mergePullRequest("acme/widgets", number);

        now += 60_000;
        const second = await run();
        expect(second.sessions).toEqual([]);
        expect(second.skipped.map((x) => x.reason)).toEqual([
          expect.stringMatching(new RegExp(`^resolved by merged PR #${number} `)),
        ]);

        now += 60_000;
        fake.addComment("acme/widgets", issue.number, { body: "Count the merges too.", user: "alice" });
        const third = await run();
        expect(third.sessions.map((x) => x.task_outcome)).toEqual(["pr_opened"]);
        const head = fake.pull("acme/widgets", third.sessions[0]!.pr_number!).head;
        const prompt = await gitOut(fake.gitUrl("acme", "widgets"), "show", `${head}:prompt-seen.md`);
        expect(prompt).toContain("Count the merges too.");
        expect(prompt).toContain(`PR #${number}: Count the work`);
        expect(prompt).not.toContain("closed without merging");
        expect(fake.rejectedDocuments).toEqual([]);
      } finally {
        await project.close();
      }
    } finally {
      await fake.close();
    }
  });
});
