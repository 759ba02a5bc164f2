import { describe, expect, it } from "vitest";
import type { CheckResult, PullRequestStatus } from "../../forge/types.ts";
import { consideredChecks, decide, type DecideOptions, type GuardDecision } from "./decide.ts";
import { GuardOptionsSchema } from "./options.ts";

/** An open, ready, mergeable, up-to-date pull request with one passing check; `over` changes it. */
function status(over: Partial<PullRequestStatus> = {}): PullRequestStatus {
  return {
    repo: "widgets",
    number: 7,
    title: "Fix the flaky test",
    author: "nightshift[bot]",
    head: "nightshift/fix-7",
    base: "main",
    headSha: "a".repeat(40),
    draft: false,
    mergeable: true,
    mergeState: "clean",
    behindBy: 0,
    checks: [check("test", "success")],
    additions: 10,
    deletions: 2,
    changedFiles: 1,
    labels: [],
    createdAt: Date.UTC(2026, 0, 1),
    updatedAt: Date.UTC(2026, 0, 2),
    ...over,
  };
}

function check(name: string, conclusion: string | null, over: Partial<CheckResult> = {}): CheckResult {
  return {
    name,
    status: conclusion === null ? "in_progress" : "completed",
    conclusion,
    required: false,
    ...over,
  };
}

const table: { name: string; status: PullRequestStatus; options?: DecideOptions; expected: GuardDecision }[] =
  [
    {
      name: "clean",
      status: status(),
      expected: { action: "none", reasons: ["mergeable and up to date with main"] },
    },
    {
      name: "conflicting (mergeable false)",
      status: status({ mergeable: false, mergeState: "dirty" }),
      expected: { action: "demote", reasons: ["conflicts with main"] },
    },
    {
      name: "conflicting (merge state dirty alone)",
      status: status({ mergeState: "dirty" }),
      expected: { action: "demote", reasons: ["conflicts with main"] },
    },
    {
      name: "failed check",
      status: status({
        mergeState: "unstable",
        checks: [check("lint", "success"), check("test", "failure")],
      }),
      expected: { action: "demote", reasons: ['check "test" concluded failure'] },
    },
    {
      name: "conflicting and two failed checks",
      status: status({
        mergeable: false,
        mergeState: "dirty",
        checks: [check("test", "timed_out"), check("build", "startup_failure"), check("docs", "neutral")],
      }),
      expected: {
        action: "demote",
        reasons: [
          "conflicts with main",
          'check "test" concluded timed_out',
          'check "build" concluded startup_failure',
        ],
      },
    },
    {
      name: "failed commit status (error)",
      status: status({ checks: [check("ci/circleci: build", "error")] }),
      expected: { action: "demote", reasons: ['check "ci/circleci: build" concluded error'] },
    },
    {
      name: "failed check while mergeability is still computed",
      status: status({ mergeable: null, mergeState: "unknown", checks: [check("test", "cancelled")] }),
      expected: { action: "demote", reasons: ['check "test" concluded cancelled'] },
    },
    {
      name: "failed but ignored check",
      status: status({
        mergeState: "unstable",
        checks: [check("test", "success"), check("codecov/patch", "failure")],
      }),
      options: { ignore_checks: ["codecov/*"] },
      expected: {
        action: "none",
        reasons: [
          "mergeable and up to date with main",
          'check "codecov/patch" concluded failure (not considered: ignored)',
        ],
      },
    },
    {
      name: "ignore glob crosses / and parentheses are literal",
      status: status({
        checks: [check("ci/circleci: optional", "failure"), check("build (ubuntu, 20)", "failure")],
      }),
      options: { ignore_checks: ["*optional", "build (ubuntu, 20)"] },
      expected: {
        action: "none",
        reasons: [
          "mergeable and up to date with main",
          'check "ci/circleci: optional" concluded failure (not considered: ignored)',
          'check "build (ubuntu, 20)" concluded failure (not considered: ignored)',
        ],
      },
    },
    {
      name: "ignore glob that does not match still demotes",
      status: status({ checks: [check("test", "failure")] }),
      options: { ignore_checks: ["codecov/*", "tes"] },
      expected: { action: "demote", reasons: ['check "test" concluded failure'] },
    },
    {
      name: "required-only with a failing optional check",
      status: status({
        mergeState: "unstable",
        checks: [check("test", "success", { required: true }), check("lint", "failure")],
      }),
      options: { required_checks_only: true },
      expected: {
        action: "none",
        reasons: [
          "mergeable and up to date with main",
          'check "lint" concluded failure (not considered: not required)',
        ],
      },
    },
    {
      name: "required-only with a failing required check",
      status: status({ checks: [check("test", "failure", { required: true }), check("lint", "success")] }),
      options: { required_checks_only: true },
      expected: { action: "demote", reasons: ['check "test" concluded failure'] },
    },
    {
      name: "pending check",
      status: status({
        mergeState: "blocked",
        checks: [
          check("lint", "success"),
          check("test", null, { required: true }),
          check("e2e", null, { status: "queued" }),
        ],
      }),
      expected: { action: "wait", reasons: ['checks pending: "test", "e2e"'] },
    },
    {
      name: "pending check that is ignored does not hold the PR",
      status: status({ checks: [check("lint", "success"), check("slow", null)] }),
      options: { ignore_checks: ["slow"] },
      expected: { action: "none", reasons: ["mergeable and up to date with main"] },
    },
    {
      name: "behind (merge state)",
      status: status({ mergeState: "behind", behindBy: null }),
      expected: { action: "update_branch", reasons: ["behind main"] },
    },
    {
      name: "behind (compare count, merge state clean)",
      status: status({ mergeState: "clean", behindBy: 3 }),
      expected: { action: "update_branch", reasons: ["behind main by 3 commits"] },
    },
    {
      name: "behind by one commit",
      status: status({ mergeState: "behind", behindBy: 1 }),
      expected: { action: "update_branch", reasons: ["behind main by 1 commit"] },
    },
    {
      name: "behind with update_branches off",
      status: status({ mergeState: "behind", behindBy: 2 }),
      options: { update_branches: false },
      expected: { action: "none", reasons: ["behind main by 2 commits; update_branches is off"] },
    },
    {
      name: "behind with checks pending waits for them",
      status: status({ behindBy: 2, checks: [check("test", null)] }),
      expected: {
        action: "wait",
        reasons: [
          'checks pending: "test"',
          "behind main by 2 commits; the branch is updated once checks finish",
        ],
      },
    },
    {
      name: "behind and conflicting demotes",
      status: status({ mergeable: false, mergeState: "dirty", behindBy: 5 }),
      expected: { action: "demote", reasons: ["conflicts with main"] },
    },
    {
      name: "draft",
      status: status({
        draft: true,
        mergeable: false,
        mergeState: "draft",
        checks: [check("test", "failure")],
      }),
      expected: { action: "skip", reasons: ["draft; the guard only watches ready pull requests"] },
    },
    {
      name: "mergeable null",
      status: status({ mergeable: null, mergeState: "unknown", behindBy: null }),
      expected: {
        action: "wait",
        reasons: ["mergeability with main not known yet (the forge is still computing it)"],
      },
    },
    {
      name: "blocked only by review",
      status: status({ mergeState: "blocked", checks: [check("test", "success", { required: true })] }),
      expected: { action: "none", reasons: ["blocked only by review; left to reviewers"] },
    },
    {
      name: "blocked only by review and behind",
      status: status({ mergeState: "blocked", behindBy: 4 }),
      expected: {
        action: "update_branch",
        reasons: ["behind main by 4 commits", "blocked only by review; left to reviewers"],
      },
    },
    {
      name: "passing conclusions (neutral, skipped) and no checks at all",
      status: status({ checks: [check("docs", "neutral"), check("deploy", "skipped")] }),
      expected: { action: "none", reasons: ["mergeable and up to date with main"] },
    },
  ];

describe("decide", () => {
  for (const row of table) {
    it(row.name, () => {
      expect(decide(row.status, row.options)).toEqual(row.expected);
    });
  }

  it("every conclusion PRodder demotes for, plus startup_failure and error, demotes; the rest pass", () => {
    const demoting = [
      "failure",
      "timed_out",
      "cancelled",
      "action_required",
      "stale",
      "startup_failure",
      "error",
    ];
    for (const conclusion of demoting)
      expect(decide(status({ checks: [check("t", conclusion)] })).action, conclusion).toBe("demote");
    for (const conclusion of ["success", "neutral", "skipped"])
      expect(decide(status({ checks: [check("t", conclusion)] })).action, conclusion).toBe("none");
  });

  it("takes the parsed front-matter options as they are", () => {
    const options = GuardOptionsSchema.parse({ ignore_checks: ["lint"] });
    expect(decide(status({ checks: [check("lint", "failure")] }), options).action).toBe("none");
    expect(decide(status({ checks: [check("test", "failure")] }), options).action).toBe("demote");
  });
});

describe("consideredChecks", () => {
  it("splits checks into considered and ignored, keeping order", () => {
    const checks = [check("a", "success", { required: true }), check("b", "failure"), check("c", null)];
    const { considered, ignored } = consideredChecks(checks, {
      required_checks_only: true,
      ignore_checks: ["a"],
    });
    expect(considered).toEqual([]);
    expect(ignored.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(consideredChecks(checks).considered.map((c) => c.name)).toEqual(["a", "b", "c"]);
  });
});

describe("GuardOptionsSchema", () => {
  it("fills defaults and refuses unknown keys", () => {
    expect(GuardOptionsSchema.parse({})).toEqual({
      ignore_checks: [],
      required_checks_only: false,
      update_branches: true,
      comment: true,
      dry_run: false,
    });
    const bad = GuardOptionsSchema.safeParse({ ignore_check: ["x"] });
    expect(bad.success).toBe(false);
    expect(GuardOptionsSchema.safeParse({ ignore_checks: [""] }).success).toBe(false);
  });
});
