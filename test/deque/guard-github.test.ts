/**
 * The guard with the real GitHub adapter (`GithubForge`) against the fake GitHub
 * (test/support/fake-github): real HTTP on 127.0.0.1, GraphQL documents validated against
 * GitHub's public schema, branches and merges computed by real git in bare repositories, a
 * manual clock.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GithubForge } from "../../src/forge/github/github-forge.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { git } from "../../src/util/git.ts";
import type { GuardAction } from "../../src/deque/guard/decide.ts";
import { formatGuardReport } from "../../src/deque/guard/report.ts";
import { GUARD_MARKER, runGuard } from "../../src/deque/guard/run.ts";
import { FakeGithub, fakeThrottle, type RequestLogEntry } from "../support/fake-github/index.ts";

const REPO = "acme/widgets";
const KINDS = ["conflict", "failing", "behind", "draft", "unknown", "review", "clean"] as const;
type Kind = (typeof KINDS)[number];

let fake: FakeGithub;
let clock: ManualClock;
let forge: GithubForge;

beforeEach(async () => {
  clock = new ManualClock();
  fake = await FakeGithub.start({ now: () => clock.now() });
  forge = new GithubForge({
    apiUrl: fake.url,
    token: "fake-token",
    gitUrl: (o, r) => fake.gitUrl(o, r),
    throttle: fakeThrottle(),
    clock,
  });
});

afterEach(async () => {
  // Every request hit an implemented endpoint and every GraphQL document was valid.
  expect(fake.unhandled).toEqual([]);
  expect(fake.rejectedDocuments).toEqual([]);
  await fake.close();
});

/**
 * One ready PR of each kind on acme/widgets, built with real commits. From main's first
 * commit: `conflict` (changes the line of config.txt that main changes next) and `behind`.
 * Then main moves on (that line, and a new file). From there: `failing` (a failed `test`
 * check run), `draft` (a draft, also with a failed check), `unknown` (mergeable still being
 * computed), `review` (main requires an approving review; every other PR has one) and
 * `clean`. Every head has a passing `build` check run and `ci/lint` status. Main does not
 * require up-to-date branches, so GitHub never says BEHIND: the adapter's compare must see it.
 */
async function scenario() {
  await fake.createRepo(REPO, { files: { "README.md": "# widgets\n", "config.txt": "timeout = 10\n" } });
  const heads = {} as Record<Kind, string>;
  heads.conflict = await fake.commit(REPO, "conflict", { "config.txt": "timeout = 20\n" });
  heads.behind = await fake.commit(REPO, "behind", { "behind.txt": "behind\n" });
  const main = await fake.commit(REPO, "main", { "config.txt": "timeout = 30\n", "news.txt": "news\n" });
  for (const k of ["failing", "draft", "unknown", "review", "clean"] as const)
    heads[k] = await fake.commit(REPO, k, { [`${k}.txt`]: `${k}\n` });

  const numbers = {} as Record<Kind, number>;
  for (const k of KINDS) {
    numbers[k] = fake.createPullRequest(REPO, {
      title: `The ${k} one`,
      head: k,
      draft: k === "draft",
    }).number;
    fake.addCheckRun(REPO, heads[k], { name: "build", conclusion: "SUCCESS" });
    fake.addStatus(REPO, heads[k], { context: "ci/lint", state: "SUCCESS" });
  }
  for (const k of ["failing", "draft"] as const)
    fake.addCheckRun(REPO, heads[k], {
      name: "test",
      conclusion: "FAILURE",
      title: "2 tests failed",
      detailsUrl: "https://ci.example/run/1",
    });
  fake.setMergeable(REPO, numbers.unknown, null);
  fake.requireReviews(REPO, "main");
  for (const k of KINDS) if (k !== "review") fake.approve(REPO, numbers[k]);
  return { heads, numbers, main };
}

/** Issue comments of every PR, and every PR's draft flag and head: what a pass could change. */
async function snapshot(numbers: Record<Kind, number>) {
  const out: Record<string, { draft: boolean; head: string | undefined; comments: string[] }> = {};
  for (const k of KINDS) {
    const pr = fake.pull(REPO, numbers[k]);
    out[k] = {
      draft: pr.draft,
      head: await fake.branchSha(REPO, k),
      comments: pr.comments.map((c) => c.body),
    };
  }
  return out;
}

/** Requests that change something: REST writes and GraphQL mutations. */
function writes(requests: readonly RequestLogEntry[]): string[] {
  return requests
    .filter((r) => (r.path === "/graphql" ? r.mutations !== undefined : r.method !== "GET"))
    .map((r) => `${r.method} ${r.path}${r.operation ? ` ${r.operation}` : ""}`);
}

/** The mutation fields GraphQL requests carried, in order, each with its input (variable `i<k>` of a batch). */
function mutationFields(requests: readonly RequestLogEntry[]) {
  return requests.flatMap((r) =>
    (r.mutations ?? []).map((field, k) => ({ field, input: r.variables?.[`i${k}`] })),
  );
}

describe("guard on GitHub (fake)", () => {
  it("demotes the conflicting and the failing PR, updates the one behind, waits, leaves the rest; a second pass changes nothing", async () => {
    const { heads, numbers, main } = await scenario();
    const before = await snapshot(numbers);
    const from = fake.requests.length;

    const report = await runGuard(forge, { repos: [REPO], clock });
    const firstRequests = fake.requests.slice(from);

    const byNumber = new Map(report.items.map((it) => [it.number, it]));
    const action = (k: Kind) => byNumber.get(numbers[k])?.action;
    const expected: Record<Kind, GuardAction> = {
      conflict: "demote",
      failing: "demote",
      behind: "update_branch",
      draft: "skip",
      unknown: "wait",
      review: "none",
      clean: "none",
    };
    expect(Object.fromEntries(KINDS.map((k) => [k, action(k)]))).toEqual(expected);
    expect(report.items).toHaveLength(KINDS.length);
    expect(report.repoErrors).toEqual([]);
    expect(report.items.filter((it) => it.error !== undefined)).toEqual([]);
    expect(report.totals).toMatchObject({
      demote: 2,
      update_branch: 1,
      wait: 1,
      none: 2,
      skip: 1,
      applied: 3,
    });

    const item = (k: Kind) => byNumber.get(numbers[k])!;
    expect(item("conflict").reasons).toEqual(["conflicts with main"]);
    expect(item("failing").reasons).toEqual(['check "test" concluded failure']);
    expect(item("behind").reasons[0]).toBe("behind main by 1 commit");
    expect(item("unknown").reasons[0]).toMatch(/mergeability with main not known yet/);
    expect(item("review").reasons).toEqual(["blocked only by review; left to reviewers"]);
    expect(item("clean").reasons).toEqual(["mergeable and up to date with main"]);
    for (const k of KINDS) expect(item(k).headSha).toBe(heads[k]);
    expect(item("draft").applied).toBe(false);

    // The demoted PRs are drafts with exactly one guard comment, which says why.
    const after = await snapshot(numbers);
    for (const k of ["conflict", "failing"] as const) {
      expect(after[k]!.draft).toBe(true);
      expect(after[k]!.comments).toHaveLength(1);
      expect(after[k]!.comments[0]).toMatch(new RegExp(`^${GUARD_MARKER}`));
      expect(after[k]!.head).toBe(heads[k]);
    }
    expect(after.conflict!.comments[0]).toContain("- conflicts with main");
    expect(after.failing!.comments[0]).toContain('- check "test" concluded failure');

    // The PR behind main got a branch update (GraphQL updatePullRequestBranch, a merge) with
    // the head the guard read as expectedHeadOid; its head is now a merge commit of that head
    // and main.
    const updates = mutationFields(firstRequests).filter((m) => m.field === "updatePullRequestBranch");
    expect(updates.map((m) => m.input)).toEqual([
      {
        pullRequestId: fake.pull(REPO, numbers.behind).prNodeId,
        expectedHeadOid: heads.behind,
        updateMethod: "MERGE",
      },
    ]);
    const bare = fake.gitUrl("acme", "widgets");
    const newHead = after.behind!.head!;
    expect(newHead).not.toBe(heads.behind);
    expect(item("behind").applied).toBe(true);
    expect(item("behind").newHeadSha).toBe(newHead);
    expect(await git(bare, ["rev-list", "--parents", "-n", "1", newHead])).toBe(
      `${newHead} ${heads.behind} ${main}`,
    );
    expect(await git(bare, ["log", "-1", "--format=%s", newHead])).toBe("Merge branch 'main' into behind");
    expect(await git(bare, ["show", `${newHead}:config.txt`])).toBe("timeout = 30");
    expect(after.behind!.draft).toBe(false);
    expect(after.behind!.comments).toEqual([]);

    // The others are untouched.
    for (const k of ["draft", "unknown", "review", "clean"] as const) expect(after[k]).toEqual(before[k]);

    // Writes of the pass: two conversions to draft, one branch update, then the two comments
    // (each after its PR's conversion), in two batched mutation documents.
    expect(writes(firstRequests)).toEqual([
      "POST /graphql NightshiftMutationBatch",
      "POST /graphql NightshiftMutationBatch",
    ]);
    expect(firstRequests.flatMap((r) => (r.mutations ? [r.mutations] : []))).toEqual([
      ["convertPullRequestToDraft", "convertPullRequestToDraft", "updatePullRequestBranch"],
      ["addComment", "addComment"],
    ]);
    expect(
      mutationFields(firstRequests)
        .filter((m) => m.field === "addComment")
        .map((m) => m.input),
    ).toEqual(
      (["conflict", "failing"] as const).map((k) => ({
        subjectId: fake.pull(REPO, numbers[k]).prNodeId,
        body: after[k]!.comments[0],
      })),
    );
    // Reads: one listing page and one status batch.
    expect(firstRequests.length).toBe(4);
    expect(report.requests).toBe(firstRequests.length);
    expect(formatGuardReport(report)).toContain(`${firstRequests.length} forge requests`);

    // Second pass: the demoted ones are drafts now, the updated one is up to date.
    clock.advance(60_000);
    const second = fake.requests.length;
    const again = await runGuard(forge, { repos: [REPO], clock });
    const secondRequests = fake.requests.slice(second);
    const again2 = new Map(again.items.map((it) => [it.number, it.action]));
    expect(Object.fromEntries(KINDS.map((k) => [k, again2.get(numbers[k])]))).toEqual({
      conflict: "skip",
      failing: "skip",
      behind: "none",
      draft: "skip",
      unknown: "wait",
      review: "none",
      clean: "none",
    });
    expect(again.totals.applied).toBe(0);
    expect(writes(secondRequests)).toEqual([]);
    expect(await snapshot(numbers)).toEqual(after);
    // Reads only: one listing page and one status batch for 7 PRs.
    expect(secondRequests.map((r) => r.operation)).toEqual([
      "NightshiftOpenPullRequests",
      "NightshiftPullRequestStatuses",
    ]);
    expect(again.requests).toBe(2);
  });

  it("dry run: reports the same decisions and changes nothing", async () => {
    const { numbers } = await scenario();
    const before = await snapshot(numbers);
    const from = fake.requests.length;

    const report = await runGuard(forge, { repos: [REPO], clock, dryRun: true });
    const requests = fake.requests.slice(from);

    expect(report.dryRun).toBe(true);
    const actions = new Map(report.items.map((it) => [it.number, it.action]));
    expect(Object.fromEntries(KINDS.map((k) => [k, actions.get(numbers[k])]))).toEqual({
      conflict: "demote",
      failing: "demote",
      behind: "update_branch",
      draft: "skip",
      unknown: "wait",
      review: "none",
      clean: "none",
    });
    expect(report.items.every((it) => !it.applied)).toBe(true);
    expect(writes(requests)).toEqual([]);
    expect(await snapshot(numbers)).toEqual(before);
    expect(requests.map((r) => r.operation)).toEqual([
      "NightshiftOpenPullRequests",
      "NightshiftPullRequestStatuses",
    ]);
    expect(report.requests).toBe(2);
    expect(formatGuardReport(report)).toContain("dry run: nothing changed");
  });
});
