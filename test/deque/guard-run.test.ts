/**
 * runGuard's handling of forge answers the local forge cannot produce on demand (a head that
 * moves between the read and the update, a refused mutation, a listing that fails, a request
 * counter), against a small stateful in-memory forge. The real local forge with real git is
 * exercised in test/deque/guard-local.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  type Comment,
  type Forge,
  ForgeError,
  type PullRequestStatus,
  type UpdateBranchResult,
} from "../../src/forge/types.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { formatGuardReport } from "../../src/deque/guard/report.ts";
import { demotionComment, GUARD_MARKER, runGuard } from "../../src/deque/guard/run.ts";

function status(number: number, over: Partial<PullRequestStatus> = {}): PullRequestStatus {
  return {
    repo: "widgets",
    number,
    title: `PR ${number}`,
    author: "nightshift[bot]",
    head: `branch-${number}`,
    base: "main",
    headSha: `${number}`.padStart(40, "0"),
    draft: false,
    mergeable: true,
    mergeState: "clean",
    behindBy: 0,
    checks: [],
    additions: 1,
    deletions: 0,
    changedFiles: 1,
    labels: [],
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

/**
 * Open pull requests held in memory. `updateBranch` merges when the expected head is current
 * (a new head sha, behind 0) unless `conflicts` holds the number; `pushes` moves a head right
 * after it was listed; `refuse` makes `setDraft` fail; `brokenRepos` fail to list. Counts
 * requests like the GitHub forge does.
 */
class MemoryForge implements Pick<
  Forge,
  "kind" | "listPullRequestStatuses" | "setDraft" | "updateBranch" | "addComment" | "listComments"
> {
  readonly kind = "github" as const;
  requestCount = 0;
  readonly prs = new Map<number, PullRequestStatus>();
  readonly comments: Comment[] = [];
  readonly conflicts = new Set<number>();
  readonly pushes = new Set<number>();
  readonly refuse = new Set<number>();
  readonly brokenRepos = new Set<string>();

  constructor(prs: PullRequestStatus[]) {
    for (const pr of prs) this.prs.set(pr.number, pr);
  }

  async listPullRequestStatuses(repo: string): Promise<PullRequestStatus[]> {
    this.requestCount++;
    if (this.brokenRepos.has(repo)) throw new ForgeError(`github: ${repo} not found`);
    const list = [...this.prs.values()].filter((p) => p.repo === repo).map((p) => structuredClone(p));
    for (const n of this.pushes) {
      const pr = this.prs.get(n);
      if (pr) pr.headSha = "f".repeat(40);
    }
    return list;
  }

  async setDraft(repo: string, number: number, draft: boolean): Promise<void> {
    this.requestCount++;
    if (this.refuse.has(number))
      throw new ForgeError(`github: ${repo}#${number}: Resource not accessible by integration`);
    this.prs.get(number)!.draft = draft;
  }

  async updateBranch(_repo: string, number: number, expectedHeadSha: string): Promise<UpdateBranchResult> {
    this.requestCount++;
    const pr = this.prs.get(number)!;
    if (pr.headSha !== expectedHeadSha)
      return { updated: false, reason: "head_moved", detail: `head is ${pr.headSha.slice(0, 7)}` };
    if (this.conflicts.has(number))
      return { updated: false, reason: "conflict", detail: "merge conflict in a.txt" };
    pr.headSha = "e".repeat(40);
    pr.behindBy = 0;
    pr.mergeState = "clean";
    return { updated: true, headSha: pr.headSha };
  }

  async addComment(repo: string, number: number, c: { author: string; body: string }): Promise<Comment> {
    this.requestCount++;
    const comment = {
      id: String(this.comments.length + 1),
      repo,
      number,
      author: c.author,
      body: c.body,
      createdAt: 0,
    };
    this.comments.push(comment);
    return comment;
  }

  async listComments(repo: string, number: number): Promise<Comment[]> {
    return this.comments.filter((c) => c.repo === repo && c.number === number);
  }
}

const asForge = (f: MemoryForge) => f as unknown as Forge;

describe("runGuard", () => {
  it("records a refused demotion and goes on; counts requests; reports the conflict met while updating", async () => {
    const forge = new MemoryForge([
      status(1, { mergeable: false, mergeState: "dirty" }),
      status(2, { behindBy: 2 }),
      status(3, { checks: [{ name: "test", status: "completed", conclusion: "failure", required: true }] }),
      status(4, { mergeState: "behind", behindBy: 1 }),
      status(5, { mergeState: "behind", behindBy: 1 }),
    ]);
    forge.refuse.add(1);
    forge.conflicts.add(4);
    forge.pushes.add(5);
    const report = await runGuard(asForge(forge), { repos: ["widgets"], clock: new ManualClock() });

    expect(report.items.map((i) => [i.number, i.action, i.applied, i.error !== undefined])).toEqual([
      [1, "demote", false, true],
      [2, "update_branch", true, false],
      [3, "demote", true, false],
      [4, "demote", true, false],
      [5, "wait", false, false],
    ]);
    expect(report.items[0]!.error).toContain("Resource not accessible by integration");
    expect(report.items[1]!.newHeadSha).toBe("e".repeat(40));
    expect(report.items[3]!.reasons).toEqual(["conflicts with main: merge conflict in a.txt"]);
    expect(report.items[4]!.reasons.at(-1)).toMatch(/^head moved since it was read/);
    expect(report.totals).toMatchObject({ demote: 3, update_branch: 1, wait: 1, applied: 3, errors: 1 });
    // 1 listing + setDraft(1, refused) + update(2) + setDraft/comment(3) + update/setDraft/comment(4) + update(5)
    expect(report.requests).toBe(9);

    expect([...forge.prs.values()].map((p) => [p.number, p.draft])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, true],
      [5, false],
    ]);
    expect(forge.comments.map((c) => c.number)).toEqual([3, 4]);
    expect(forge.comments[0]!.body).toBe(demotionComment(['check "test" concluded failure']));
    expect(forge.comments[0]!.body.startsWith(GUARD_MARKER)).toBe(true);
    expect(formatGuardReport(report)).toContain(
      "errors:\n  demote widgets#1: github: widgets#1: Resource not accessible",
    );
  });

  it("goes on past a repository whose listing fails", async () => {
    const forge = new MemoryForge([status(1, { mergeable: false })]);
    forge.brokenRepos.add("gone");
    const report = await runGuard(asForge(forge), { repos: ["gone", "widgets"], clock: new ManualClock() });
    expect(report.repoErrors).toEqual([
      { repo: "gone", error: "could not list open pull requests of gone: github: gone not found" },
    ]);
    expect(report.items.map((i) => [i.number, i.action, i.applied])).toEqual([[1, "demote", true]]);
    expect(report.totals.errors).toBe(1);
  });

  it("comment: false demotes without a comment; dry_run from the options changes nothing", async () => {
    const forge = new MemoryForge([status(1, { mergeable: false }), status(2, { behindBy: 3 })]);
    const dry = await runGuard(asForge(forge), {
      repos: ["widgets"],
      clock: new ManualClock(),
      options: { dry_run: true },
    });
    expect(dry.dryRun).toBe(true);
    expect(dry.items.map((i) => [i.action, i.applied])).toEqual([
      ["demote", false],
      ["update_branch", false],
    ]);
    expect(formatGuardReport(dry)).toMatch(/would demote to draft[\s\S]*would update branch/);
    expect(forge.prs.get(1)!.draft).toBe(false);
    expect(forge.prs.get(2)!.headSha).toBe(status(2).headSha);

    const real = await runGuard(asForge(forge), {
      repos: ["widgets"],
      clock: new ManualClock(),
      options: { comment: false, update_branches: false },
    });
    expect(real.items.map((i) => [i.action, i.applied])).toEqual([
      ["demote", true],
      ["none", false],
    ]);
    expect(forge.prs.get(1)!.draft).toBe(true);
    expect(forge.comments).toEqual([]);
  });

  it("rejects options the schema refuses", async () => {
    const forge = new MemoryForge([]);
    await expect(
      runGuard(asForge(forge), {
        repos: ["widgets"],
        clock: new ManualClock(),
        options: { ignore_check: ["x"] } as never,
      }),
    ).rejects.toThrow(/ignore_check/);
  });
});

describe("formatGuardReport", () => {
  it("says so when there is nothing to guard", async () => {
    const report = await runGuard(asForge(new MemoryForge([])), {
      repos: ["widgets"],
      clock: new ManualClock(),
    });
    expect(formatGuardReport(report)).toBe(
      "no open pull requests\n\n0 open pull requests, 0 demoted, 0 updated, 0 waiting, 0 ok, 0 drafts skipped, 0 errors (1 forge request)",
    );
  });
});
