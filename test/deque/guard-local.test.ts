/**
 * The guard against the real local forge: real git (bare repository, merge-tree, merge
 * commits), real SQLite store, a manual clock.
 */
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LocalForge } from "../../src/forge/local/local-forge.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { decide } from "../../src/deque/guard/decide.ts";
import { formatGuardReport } from "../../src/deque/guard/report.ts";
import { GUARD_MARKER, runGuard } from "../../src/deque/guard/run.ts";
import { cleanupTemp, gitOut, makeRepo, tempDir, writeFiles, pushBranch } from "../support/project.ts";

afterAll(cleanupTemp);
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const REPO = "demo";

/**
 * A forge with one PR of each kind. From the first commit of main: `conflict` (changes the
 * line main changes next), `failing` (a failed `test` check recorded), `behind` and `draft`.
 * Then main moves on (the conflicting change plus a new file); from there: `pending` (a check
 * in progress) and `clean`.
 */
async function scenario() {
  const dir = tempDir("nightshift-guard-");
  const src = await makeRepo({ "app.txt": "version 1\n", "README.md": "# demo\n" }, join(dir, "demo"));
  const store = await openStore(join(dir, "nightshift.db"));
  stores.push(store);
  const clock = new ManualClock();
  const forge = new LocalForge({
    db: store.db,
    dir: join(dir, "forge"),
    sources: [{ name: REPO, path: src }],
    clock,
  });
  await forge.repo(REPO);
  const bare = forge.barePath(REPO);
  const m0 = await gitOut(src, "rev-parse", "main");

  const heads: Record<string, string> = {};
  heads.conflict = await pushBranch(src, bare, "conflict", m0, { "app.txt": "version 2 from the branch\n" });
  heads.failing = await pushBranch(src, bare, "failing", m0, { "failing.txt": "x\n" });
  heads.behind = await pushBranch(src, bare, "behind", m0, { "behind.txt": "x\n" });
  heads.draft = await pushBranch(src, bare, "draft", m0, { "draft.txt": "x\n" });
  writeFiles(src, { "app.txt": "version 2 from main\n", "news.txt": "news\n" });
  await gitOut(src, "commit", "--quiet", "-am", "main moves on");
  await gitOut(src, "add", "--all");
  await gitOut(src, "commit", "--quiet", "-m", "news");
  await forge.repo(REPO); // publishes the new main
  const main = await gitOut(src, "rev-parse", "main");
  heads.pending = await pushBranch(src, bare, "pending", main, { "pending.txt": "x\n" });
  heads.clean = await pushBranch(src, bare, "clean", main, { "clean.txt": "x\n" });

  await forge.recordCheck(REPO, heads.failing, {
    name: "test",
    status: "completed",
    conclusion: "failure",
    required: true,
  });
  await forge.recordCheck(REPO, heads.failing, {
    name: "lint",
    status: "completed",
    conclusion: "success",
    required: false,
  });
  await forge.recordCheck(REPO, heads.pending, {
    name: "test",
    status: "in_progress",
    conclusion: null,
    required: true,
  });
  await forge.recordCheck(REPO, heads.clean, {
    name: "test",
    status: "completed",
    conclusion: "success",
    required: true,
  });

  const numbers: Record<string, number> = {};
  for (const name of ["conflict", "failing", "behind", "draft", "pending", "clean"]) {
    const pr = await forge.createPullRequest(REPO, {
      title: `PR from ${name}`,
      body: "",
      head: name,
      base: "main",
      draft: name === "draft",
      sessionId: null,
    });
    numbers[name] = pr.number;
  }
  return { forge, bare, src, clock, heads, numbers, main, m0 };
}

type Scenario = Awaited<ReturnType<typeof scenario>>;

/** What the forge holds now: each PR's draft flag, head commit and guard comments. */
async function forgeState(s: Scenario) {
  const out: Record<string, { draft: boolean; headSha: string | undefined; guardComments: string[] }> = {};
  for (const [name, number] of Object.entries(s.numbers)) {
    const pr = await s.forge.getPullRequest(REPO, number);
    const comments = await s.forge.listComments(REPO, number);
    out[name] = {
      draft: pr.draft,
      headSha: pr.headSha ?? (await gitOut(s.bare, "rev-parse", `refs/heads/${name}`)),
      guardComments: comments.filter((c) => c.body.startsWith(GUARD_MARKER)).map((c) => c.body),
    };
  }
  return out;
}

const EXPECTED_ACTIONS = {
  conflict: "demote",
  failing: "demote",
  behind: "update_branch",
  draft: "skip",
  pending: "wait",
  clean: "none",
};

describe("guard on the local forge", () => {
  it("demotes, updates, waits and skips as it should; a second pass changes nothing", async () => {
    const s = await scenario();
    const before = await forgeState(s);
    const report = await runGuard(s.forge, { repos: [REPO], clock: s.clock });

    const byName = Object.fromEntries(
      Object.entries(s.numbers).map(([name, n]) => [name, report.items.find((i) => i.number === n)!]),
    );
    expect(Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, v.action]))).toEqual(
      EXPECTED_ACTIONS,
    );
    expect(report.items).toHaveLength(6);
    expect(report.totals).toMatchObject({
      demote: 2,
      update_branch: 1,
      wait: 1,
      none: 1,
      skip: 1,
      applied: 3,
      errors: 0,
    });
    expect(byName.conflict!.reasons).toEqual(["conflicts with main"]);
    expect(byName.failing!.reasons).toEqual(['check "test" concluded failure']);
    expect(byName.behind!.reasons[0]).toBe("behind main by 2 commits");
    expect(byName.pending!.reasons).toEqual(['checks pending: "test"']);
    expect(report.requests).toBeNull(); // the local forge makes no requests and does not count them

    const after = await forgeState(s);
    expect(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v.draft]))).toEqual({
      conflict: true,
      failing: true,
      behind: false,
      draft: true,
      pending: false,
      clean: false,
    });
    // Exactly one guard comment, on each demoted PR, saying why.
    expect(after.conflict!.guardComments).toHaveLength(1);
    expect(after.conflict!.guardComments[0]).toContain("- conflicts with main");
    expect(after.failing!.guardComments).toHaveLength(1);
    expect(after.failing!.guardComments[0]).toContain('- check "test" concluded failure');
    for (const name of ["behind", "draft", "pending", "clean"])
      expect(after[name]!.guardComments).toEqual([]);

    // The behind PR's head is now a merge commit of its old head and main; nothing else moved.
    const newHead = after.behind!.headSha!;
    expect(newHead).not.toBe(before.behind!.headSha);
    expect(byName.behind!.newHeadSha).toBe(newHead);
    expect((await gitOut(s.bare, "rev-list", "--parents", "-n1", newHead)).split(" ").slice(1)).toEqual([
      s.heads.behind,
      s.main,
    ]);
    expect(await gitOut(s.bare, "show", `${newHead}:news.txt`)).toBe("news");
    expect(await gitOut(s.bare, "show", `${newHead}:behind.txt`)).toBe("x");
    for (const name of ["conflict", "failing", "draft", "pending", "clean"])
      expect(after[name]!.headSha, name).toBe(before[name]!.headSha);
    expect(await gitOut(s.bare, "rev-parse", "refs/heads/main")).toBe(s.main);

    // Second pass: demoted PRs are drafts now and are skipped; the updated PR is up to date.
    const again = await runGuard(s.forge, { repos: [REPO], clock: s.clock });
    const actions = Object.fromEntries(
      Object.entries(s.numbers).map(([name, n]) => [name, again.items.find((i) => i.number === n)!.action]),
    );
    expect(actions).toEqual({
      conflict: "skip",
      failing: "skip",
      behind: "none",
      draft: "skip",
      pending: "wait",
      clean: "none",
    });
    expect(again.totals.applied).toBe(0);
    expect(await forgeState(s)).toEqual(after);
  });

  it("a dry run changes nothing and reports the actions a real pass then takes", async () => {
    const s = await scenario();
    const before = await forgeState(s);
    const dry = await runGuard(s.forge, { repos: [REPO], clock: s.clock, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.items.every((i) => !i.applied)).toBe(true);
    expect(await forgeState(s)).toEqual(before);
    expect(formatGuardReport(dry)).toContain("dry run: nothing changed");

    const real = await runGuard(s.forge, { repos: [REPO], clock: s.clock });
    const pick = (r: typeof dry) => r.items.map((i) => [i.number, i.action, i.reasons[0]]);
    expect(pick(real)).toEqual(pick(dry));
    expect(
      Object.fromEntries(
        Object.entries(s.numbers).map(([k, n]) => [k, dry.items.find((i) => i.number === n)!.action]),
      ),
    ).toEqual(EXPECTED_ACTIONS);
  });

  it("ignore_checks and required_checks_only leave a PR with a failed check ready", async () => {
    const s = await scenario();
    const ignoring = await runGuard(s.forge, {
      repos: [REPO],
      clock: s.clock,
      dryRun: true,
      options: { ignore_checks: ["te*"] },
    });
    const failing = ignoring.items.find((i) => i.number === s.numbers.failing)!;
    // Not demoted for the ignored check; still behind main, so its branch would be updated.
    expect(failing.action).toBe("update_branch");
    expect(failing.reasons).toContain('check "test" concluded failure (not considered: ignored)');

    await s.forge.recordCheck(REPO, s.heads.clean!, {
      name: "lint",
      status: "completed",
      conclusion: "failure",
      required: false,
    });
    const requiredOnly = await runGuard(s.forge, {
      repos: [REPO],
      clock: s.clock,
      options: { required_checks_only: true },
    });
    expect(requiredOnly.items.find((i) => i.number === s.numbers.clean)!.action).toBe("none");
    expect((await s.forge.getPullRequest(REPO, s.numbers.clean!)).draft).toBe(false);
    const all = await runGuard(s.forge, { repos: [REPO], clock: s.clock });
    expect(all.items.find((i) => i.number === s.numbers.clean)!).toMatchObject({
      action: "demote",
      applied: true,
      reasons: ['check "lint" concluded failure'],
    });
  });

  it("a pull request blocked only by review is left alone (decided on GitHub's merge state)", async () => {
    // The local forge has no required reviews, so its `blocked` always means a required check
    // is pending; take a real status and give it GitHub's review-only block.
    const s = await scenario();
    const [clean] = await s.forge.listPullRequestStatuses(REPO, { numbers: [s.numbers.clean!] });
    expect(clean!.mergeState).toBe("clean");
    expect(decide({ ...clean!, mergeState: "blocked" })).toEqual({
      action: "none",
      reasons: ["blocked only by review; left to reviewers"],
    });
  });

  it("waits when the head moves between the read and the update (someone pushed)", async () => {
    const s = await scenario();
    let pushed = "";
    // The real forge, except that someone pushes to `behind` right after the guard's read.
    const racing = new Proxy(s.forge, {
      get(target, prop) {
        if (prop === "listPullRequestStatuses")
          return async (repo: string) => {
            const statuses = await target.listPullRequestStatuses(repo);
            pushed = await pushBranch(s.src, s.bare, "behind-2", s.heads.behind!, { "more.txt": "more\n" });
            await gitOut(s.bare, "update-ref", "refs/heads/behind", pushed);
            return statuses;
          };
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const report = await runGuard(racing, { repos: [REPO], clock: s.clock });
    const behind = report.items.find((i) => i.number === s.numbers.behind)!;
    expect(behind).toMatchObject({ action: "wait", applied: false });
    expect(behind.reasons[0]).toBe("behind main by 2 commits");
    expect(behind.reasons[1]).toMatch(/^head moved since it was read \(.*\); the next pass decides$/);
    expect(await gitOut(s.bare, "rev-parse", "refs/heads/behind")).toBe(pushed);
    expect((await s.forge.getPullRequest(REPO, s.numbers.behind!)).draft).toBe(false);
  });
});
