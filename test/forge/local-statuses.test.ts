import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CI_CHECK, LocalForge } from "../../src/forge/local/local-forge.ts";
import { ForgeError, type PullRequestStatus } from "../../src/forge/types.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { until } from "../support/processes.ts";
import { cleanupTemp, gitOut, makeRepo, tempDir, writeFiles, pushBranch } from "../support/project.ts";

/**
 * The local forge's view of pull requests, computed with real git in the bare repository:
 * mergeability, how far behind, merge state, checks from the local CI, diff size; and the
 * actions the guard and judge take (draft/ready, close, update-branch) and review threads.
 */

const REPO = "demo";

interface World {
  source: string;
  bare: string;
  store: Store;
  clock: ManualClock;
  /** A forge without CI. */
  forge: LocalForge;
  /** The same forge with `forge.ci: test -f ok`. */
  withCi: LocalForge;
  pr: Record<"clean" | "conflict" | "behind" | "draft" | "pass" | "fail", number>;
}

/** Commits `files` on a new branch `name` made from `from` in the source, and pushes it to the forge. */
function branch(
  w: Pick<World, "source" | "bare">,
  name: string,
  from: string,
  files: Record<string, string>,
) {
  return pushBranch(w.source, w.bare, name, from, files);
}

async function world(opts: { ciTimeoutMs?: number; ci?: string } = {}): Promise<World> {
  const source = await makeRepo({ "README.md": "# demo\nline two\n", "src/app.txt": "one\ntwo\nthree\n" });
  const store = await openStore(join(tempDir(), "nightshift.db"));
  const clock = new ManualClock();
  const dir = join(tempDir(), "forge");
  const sources = [{ name: REPO, path: source, base: "main" }];
  const forge = new LocalForge({ db: store.db, dir, sources, clock });
  const withCi = new LocalForge({
    db: store.db,
    dir,
    sources,
    clock,
    ci: opts.ci ?? "test -f ok",
    ...(opts.ciTimeoutMs ? { ciTimeoutMs: opts.ciTimeoutMs } : {}),
  });
  const initial = await gitOut(source, "rev-parse", "HEAD");
  await forge.repo(REPO);
  const w = { source, bare: forge.barePath(REPO) };
  // Branches made from the first commit, before main moves on.
  await branch(w, "behind", initial, { "b.txt": "b\n" });
  await branch(w, "conflict", initial, { "README.md": "# demo\nline two, theirs\n" });
  // main moves on: README line two changes, so `conflict` conflicts and `behind` is behind.
  writeFiles(source, { "README.md": "# demo\nline two, ours\n" });
  await gitOut(source, "commit", "--quiet", "-am", "main moves on");
  await forge.repo(REPO);
  await branch(w, "clean", "main", { "c.txt": "c1\nc2\nc3\n", "src/app.txt": "one\n2\nthree\n" });
  await branch(w, "draft", "main", { "d.txt": "d\n" });
  await branch(w, "pass", "main", { ok: "" });
  await branch(w, "fail", "main", { "notok.txt": "no\n" });
  const open = async (head: string, draft = false) =>
    (
      await forge.createPullRequest(REPO, {
        title: `PR ${head}`,
        body: "",
        head,
        base: "main",
        draft,
        sessionId: null,
      })
    ).number;
  const pr = {
    clean: await open("clean"),
    conflict: await open("conflict"),
    behind: await open("behind"),
    draft: await open("draft", true),
    pass: await open("pass"),
    fail: await open("fail"),
  };
  return { source, bare: w.bare, store, clock, forge, withCi, pr };
}

const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores.splice(0)) await s.close();
  cleanupTemp();
});

async function made(opts?: Parameters<typeof world>[0]): Promise<World> {
  const w = await world(opts);
  stores.push(w.store);
  return w;
}

function byNumber(list: PullRequestStatus[]): Map<number, PullRequestStatus> {
  return new Map(list.map((s) => [s.number, s]));
}

describe("local forge pull request statuses", () => {
  let w: World;
  beforeAll(async () => {
    w = await made();
  }, 60_000);

  it("tells clean, conflicting, behind and draft pull requests apart with real merges", async () => {
    const s = byNumber(await w.forge.listPullRequestStatuses(REPO));
    expect([...s.keys()].sort()).toEqual(Object.values(w.pr).sort());
    const main = await gitOut(w.bare, "rev-parse", "refs/heads/main");

    const clean = s.get(w.pr.clean)!;
    expect(clean).toMatchObject({
      mergeable: true,
      behindBy: 0,
      mergeState: "clean",
      draft: false,
      checks: [],
    });
    expect(clean.headSha).toBe(await gitOut(w.bare, "rev-parse", "refs/heads/clean"));
    // c.txt: 3 added; src/app.txt: one line replaced.
    expect([clean.additions, clean.deletions, clean.changedFiles]).toEqual([4, 1, 2]);

    const conflict = s.get(w.pr.conflict)!;
    expect(conflict).toMatchObject({ mergeable: false, mergeState: "dirty", behindBy: 1 });

    const behind = s.get(w.pr.behind)!;
    expect(behind).toMatchObject({ mergeable: true, mergeState: "behind", behindBy: 1 });
    expect(await gitOut(w.bare, "rev-list", "--count", `refs/heads/behind..${main}`)).toBe("1");

    expect(s.get(w.pr.draft)).toMatchObject({ draft: true, mergeState: "draft", mergeable: true });
  });

  it("limits the list to the numbers asked for", async () => {
    const s = await w.forge.listPullRequestStatuses(REPO, { numbers: [w.pr.behind, w.pr.draft, 999] });
    expect(s.map((x) => x.number).sort()).toEqual([w.pr.behind, w.pr.draft].sort());
  });

  it("fills headSha and labels on pull requests", async () => {
    await w.forge.setPullRequestLabels(REPO, w.pr.clean, ["deque", "small", "deque"]);
    const pr = await w.forge.getPullRequest(REPO, w.pr.clean);
    expect(pr.headSha).toBe(await gitOut(w.bare, "rev-parse", "refs/heads/clean"));
    expect(pr.labels).toEqual(["deque", "small"]);
    const listed = (await w.forge.listPullRequests(REPO)).find((p) => p.number === w.pr.clean)!;
    expect(listed.headSha).toBe(pr.headSha);
    const status = (await w.forge.listPullRequestStatuses(REPO, { numbers: [w.pr.clean] }))[0]!;
    expect(status.labels).toEqual(["deque", "small"]);
  });

  it("reports ci as queued until the local CI has run, then its real result", async () => {
    const before = byNumber(await w.withCi.listPullRequestStatuses(REPO));
    for (const s of before.values())
      expect(s.checks).toEqual([{ name: CI_CHECK, status: "queued", conclusion: null, required: true }]);
    // A required check that has not run blocks an otherwise clean PR.
    expect(before.get(w.pr.pass)!.mergeState).toBe("blocked");

    const passed = await w.withCi.runChecks(REPO, w.pr.pass);
    const failed = await w.withCi.runChecks(REPO, w.pr.fail);
    expect(passed).toMatchObject({
      name: CI_CHECK,
      status: "completed",
      conclusion: "success",
      required: true,
    });
    expect(failed).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(failed.output).toContain("test -f ok: exit code 1");

    const after = byNumber(await w.withCi.listPullRequestStatuses(REPO));
    expect(after.get(w.pr.pass)!.checks).toMatchObject([{ name: CI_CHECK, conclusion: "success" }]);
    expect(after.get(w.pr.pass)!.mergeState).toBe("clean");
    expect(after.get(w.pr.fail)!.checks).toMatchObject([{ name: CI_CHECK, conclusion: "failure" }]);
    expect(after.get(w.pr.fail)!.mergeState).toBe("unstable");
    // The forge without CI configured shows the recorded results but queues nothing.
    expect(byNumber(await w.forge.listPullRequestStatuses(REPO)).get(w.pr.clean)!.checks).toEqual([]);
  }, 60_000);

  it("runPendingChecks runs the CI only where the head commit has no result", async () => {
    const ran = await w.withCi.runPendingChecks(REPO);
    expect(ran.map((r) => r.number).sort()).toEqual(
      [w.pr.clean, w.pr.conflict, w.pr.behind, w.pr.draft].sort((a, b) => a - b),
    );
    // None of these has a file named ok.
    for (const r of ran) expect(r.check.conclusion).toBe("failure");
    expect(await w.withCi.runPendingChecks(REPO)).toEqual([]);
    expect(await w.forge.runPendingChecks(REPO)).toEqual([]);
  }, 60_000);

  it("records checks from other CI systems: a failure makes a PR unstable, a pending required one blocks it", async () => {
    const sha = await gitOut(w.bare, "rev-parse", "refs/heads/pass");
    await w.forge.recordCheck(REPO, sha, {
      name: "lint",
      status: "in_progress",
      conclusion: null,
      required: true,
    });
    let s = (await w.forge.listPullRequestStatuses(REPO, { numbers: [w.pr.pass] }))[0]!;
    expect(s.mergeState).toBe("blocked");
    w.clock.advance(5_000);
    await w.forge.recordCheck(REPO, sha, {
      name: "lint",
      status: "completed",
      conclusion: "failure",
      required: false,
      url: "https://ci.example.invalid/1",
      output: "x".repeat(100_000),
    });
    s = (await w.forge.listPullRequestStatuses(REPO, { numbers: [w.pr.pass] }))[0]!;
    expect(s.mergeState).toBe("unstable");
    const lint = s.checks.find((c) => c.name === "lint")!;
    expect(lint).toMatchObject({
      conclusion: "failure",
      required: false,
      url: "https://ci.example.invalid/1",
    });
    expect(Buffer.byteLength(lint.output!)).toBeLessThanOrEqual(64 * 1024);
    expect(lint.output).toMatch(/^\[nightshift: output cut/);
    const row = await w.store.db
      .selectFrom("forge_checks")
      .selectAll()
      .where("sha", "=", sha)
      .where("name", "=", "lint")
      .executeTakeFirstOrThrow();
    expect(Number(row.completed_at) - Number(row.started_at)).toBe(5_000);
    await expect(
      w.forge.recordCheck(REPO, "abc123", { name: "x", status: "queued", conclusion: null, required: false }),
    ).rejects.toThrow(ForgeError);
    await expect(
      w.forge.recordCheck(REPO, sha, { name: "x", status: "completed", conclusion: null, required: false }),
    ).rejects.toThrow(/needs a conclusion/);
  });
});

describe("local forge update-branch", () => {
  it("merges the base into a behind head with a two-parent merge commit", async () => {
    const w = await made();
    const old = await gitOut(w.bare, "rev-parse", "refs/heads/behind");
    const main = await gitOut(w.bare, "rev-parse", "refs/heads/main");
    const r = await w.forge.updateBranch(REPO, w.pr.behind, old);
    if (!r.updated) throw new Error(`expected an update, got ${r.reason}: ${r.detail}`);
    expect(await gitOut(w.bare, "rev-parse", "refs/heads/behind")).toBe(r.headSha);
    expect((await gitOut(w.bare, "rev-list", "--parents", "-n", "1", r.headSha)).split(" ").slice(1)).toEqual(
      [old, main],
    );
    await gitOut(w.bare, "merge-base", "--is-ancestor", main, r.headSha);
    expect(await gitOut(w.bare, "log", "-1", "--format=%s|%cn <%ce>", r.headSha)).toBe(
      `Merge branch 'main' into behind|${process.env.GIT_COMMITTER_NAME ?? "nightshift"} <${process.env.GIT_COMMITTER_EMAIL ?? "nightshift@localhost"}>`,
    );
    // The merged tree has both sides' files.
    expect(await gitOut(w.bare, "show", `${r.headSha}:b.txt`)).toBe("b");
    expect(await gitOut(w.bare, "show", `${r.headSha}:README.md`)).toContain("ours");
    const s = (await w.forge.listPullRequestStatuses(REPO, { numbers: [w.pr.behind] }))[0]!;
    expect(s).toMatchObject({ behindBy: 0, mergeState: "clean", headSha: r.headSha });

    // The old head is no longer the head: a second call with it is refused, nothing forced.
    const again = await w.forge.updateBranch(REPO, w.pr.behind, old);
    expect(again).toMatchObject({ updated: false, reason: "head_moved" });
    expect(await gitOut(w.bare, "rev-parse", "refs/heads/behind")).toBe(r.headSha);
    expect(await w.forge.updateBranch(REPO, w.pr.behind, r.headSha)).toMatchObject({
      updated: false,
      reason: "up_to_date",
    });
  }, 60_000);

  it("refuses conflicts and up-to-date heads, and lets only one of two racing updates through", async () => {
    const w = await made();
    const conflictHead = await gitOut(w.bare, "rev-parse", "refs/heads/conflict");
    const c = await w.forge.updateBranch(REPO, w.pr.conflict, conflictHead);
    expect(c).toMatchObject({ updated: false, reason: "conflict" });
    if (!c.updated) expect(c.detail).toContain("README.md");
    expect(await gitOut(w.bare, "rev-parse", "refs/heads/conflict")).toBe(conflictHead);

    const cleanHead = await gitOut(w.bare, "rev-parse", "refs/heads/clean");
    expect(await w.forge.updateBranch(REPO, w.pr.clean, cleanHead)).toMatchObject({
      updated: false,
      reason: "up_to_date",
    });

    const behindHead = await gitOut(w.bare, "rev-parse", "refs/heads/behind");
    const results = await Promise.all([
      w.forge.updateBranch(REPO, w.pr.behind, behindHead),
      w.withCi.updateBranch(REPO, w.pr.behind, behindHead),
    ]);
    expect(results.filter((r) => r.updated)).toHaveLength(1);
    expect(results.filter((r) => !r.updated && r.reason === "head_moved")).toHaveLength(1);
    // The new head is pending CI again.
    expect((await w.withCi.runPendingChecks(REPO)).map((r) => r.number)).toContain(w.pr.behind);
  }, 60_000);
});

describe("local forge draft, close and review threads", () => {
  it("marks drafts ready and back, and closes without merging", async () => {
    const w = await made();
    const created = (await w.forge.getPullRequest(REPO, w.pr.draft)).updatedAt;
    w.clock.advance(60_000);
    await w.forge.setDraft(REPO, w.pr.draft, false);
    const s = (await w.forge.listPullRequestStatuses(REPO, { numbers: [w.pr.draft] }))[0]!;
    expect(s).toMatchObject({ draft: false, mergeState: "clean", updatedAt: created + 60_000 });
    await w.forge.setDraft(REPO, w.pr.clean, true);
    expect((await w.forge.getPullRequest(REPO, w.pr.clean)).draft).toBe(true);

    w.clock.advance(1_000);
    await w.forge.closePullRequest(REPO, w.pr.clean);
    const closed = await w.forge.getPullRequest(REPO, w.pr.clean);
    expect(closed).toMatchObject({ state: "closed", updatedAt: created + 61_000 });
    expect((await w.forge.listPullRequestStatuses(REPO)).map((x) => x.number)).not.toContain(w.pr.clean);
    expect((await w.forge.listPullRequests(REPO, { state: "closed" })).map((x) => x.number)).toEqual([
      w.pr.clean,
    ]);
    // The branch stays; closing twice is harmless; a closed PR cannot become ready.
    expect(await gitOut(w.bare, "rev-parse", "--verify", "refs/heads/clean")).toMatch(/^[0-9a-f]{40}$/);
    await w.forge.closePullRequest(REPO, w.pr.clean);
    await expect(w.forge.setDraft(REPO, w.pr.clean, false)).rejects.toThrow(/is closed/);
    await expect(w.forge.closePullRequest(REPO, 999)).rejects.toThrow(/has no pull request #999/);
  }, 60_000);

  it("adds, replies to, resolves and lists review threads apart from plain comments", async () => {
    const w = await made();
    const t1 = await w.forge.addReviewComment(REPO, w.pr.clean, {
      author: "alice",
      body: "Why 2?",
      path: "src/app.txt",
      line: 2,
    });
    w.clock.advance(1_000);
    await w.forge.addReviewComment(REPO, w.pr.clean, { author: "bot", body: "Fixed.", threadId: t1.id });
    w.clock.advance(1_000);
    const t2 = await w.forge.addReviewComment(REPO, w.pr.clean, {
      author: "bob",
      body: "Trailing line?",
      path: "c.txt",
      line: 3,
    });
    await w.forge.addComment(REPO, w.pr.clean, { author: "carol", body: "LGTM overall" });
    await w.forge.resolveReviewThread(REPO, t1.id);

    const threads = await w.forge.listReviewThreads(REPO, w.pr.clean);
    expect(
      threads.map((t) => ({
        id: t.id,
        resolved: t.resolved,
        at: `${t.path}:${t.line}`,
        said: t.comments.map((c) => `${c.author}: ${c.body}`),
      })),
    ).toEqual([
      { id: t1.id, resolved: true, at: "src/app.txt:2", said: ["alice: Why 2?", "bot: Fixed."] },
      { id: t2.id, resolved: false, at: "c.txt:3", said: ["bob: Trailing line?"] },
    ]);
    expect((await w.forge.listComments(REPO, w.pr.clean)).map((c) => c.body)).toEqual(["LGTM overall"]);
    await w.forge.resolveReviewThread(REPO, t1.id, false);
    expect((await w.forge.listReviewThreads(REPO, w.pr.clean))[0]!.resolved).toBe(false);
    expect(await w.forge.listReviewThreads(REPO, w.pr.behind)).toEqual([]);

    await expect(
      w.forge.addReviewComment(REPO, w.pr.behind, { author: "x", body: "y", threadId: t1.id }),
    ).rejects.toThrow(/has no review thread/);
    await expect(
      w.forge.addReviewComment(REPO, w.pr.clean, { author: "x", body: "y", path: "a" }),
    ).rejects.toThrow(/needs a file path and a line number/);
    await expect(w.forge.resolveReviewThread(REPO, "nope")).rejects.toThrow(ForgeError);
  }, 60_000);
});

describe("local CI runs", () => {
  it("stops a CI run at the timeout on the injected clock and records timed_out", async () => {
    const marker = `sleep 59.${process.pid}`;
    const w = await made({
      ci: `echo "started in $(pwd) at $(git rev-parse HEAD)"; ${marker}`,
      ciTimeoutMs: 2_000,
    });
    const running = w.withCi.runChecks(REPO, w.pr.pass);
    const sha = await gitOut(w.bare, "rev-parse", "refs/heads/pass");
    await until("the CI process to start", async () =>
      findProcess(marker).length > 0 &&
      (await w.withCi.listChecks(REPO, sha)).some((c) => c.status === "in_progress")
        ? true
        : undefined,
    );
    w.clock.advance(2_000);
    const r = await running;
    expect(r).toMatchObject({ status: "completed", conclusion: "timed_out" });
    const [, cwd, at] = /started in (\S+) at (\S+)/.exec(r.output!)!;
    // It ran at the PR's head in a temporary clone, removed afterwards.
    expect(at).toBe(sha);
    expect(existsSync(cwd!)).toBe(false);
    expect(r.output).toContain("timed out after 2000 ms");
    expect(findProcess(marker)).toEqual([]);
  }, 60_000);

  it("keeps the last 64 KiB of a long CI log", async () => {
    const w = await made({ ci: `seq -f "line-%g-${"x".repeat(60)}" 0 2999` });
    const r = await w.withCi.runChecks(REPO, w.pr.pass);
    expect(r.conclusion).toBe("success");
    expect(Buffer.byteLength(r.output!)).toBeLessThanOrEqual(64 * 1024);
    expect(r.output).toMatch(/^\[nightshift: output cut/);
    expect(r.output).toContain("line-2999-");
    expect(r.output).not.toContain("line-10-");
  }, 60_000);

  it("refuses to run without a CI command", async () => {
    const w = await made();
    await expect(w.forge.runChecks(REPO, w.pr.pass)).rejects.toThrow(/set forge\.ci/);
  }, 60_000);
});

/** Live processes whose command line is `cmd`. */
function findProcess(cmd: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const line = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim();
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        return line === cmd && !/^\d+ \(.*\) Z/.test(stat);
      } catch {
        return false;
      }
    })
    .map(Number);
}
