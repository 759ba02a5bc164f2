import { describe, expect, it } from "vitest";
import type { PullRequestStatus } from "../../forge/types.ts";
import { parseVerdict } from "./rubric.ts";
import { claimedFiles, judgeRules } from "./rules.ts";

const status = (over: Partial<PullRequestStatus> = {}): PullRequestStatus => ({
  repo: "r",
  number: 7,
  title: "t",
  author: "nightshift[bot]",
  head: "nightshift/issue-1-abc",
  base: "main",
  headSha: "a".repeat(40),
  draft: true,
  mergeable: true,
  mergeState: "draft",
  behindBy: 0,
  checks: [{ name: "ci", status: "completed", conclusion: "success", required: true }],
  additions: 3,
  deletions: 1,
  changedFiles: 1,
  labels: [],
  createdAt: 0,
  updatedAt: 0,
  ...over,
});
const base = {
  diffFiles: ["src/a.ts"],
  claimed: [] as string[],
  protectedPaths: [".github/workflows/**", ".ci/**"],
  readyCount: 0,
  maxReady: 5,
};

describe("judgeRules", () => {
  it("lets a clean, green PR through to the model", () => {
    expect(judgeRules({ status: status(), ...base })).toEqual([]);
  });
  it.each([
    [
      "failing check",
      { checks: [{ name: "ci", status: "completed", conclusion: "failure", required: true }] },
      /"ci" concluded failure/,
    ],
    [
      "pending check",
      { checks: [{ name: "ci", status: "in_progress", conclusion: null, required: false }] },
      /still in progress/,
    ],
    ["conflict", { mergeable: false, mergeState: "dirty" }, /conflicts with main/],
    ["mergeable unknown", { mergeable: null }, /not computed mergeability/],
  ] as const)("keeps a PR with a %s", (_, over, reason) => {
    const reasons = judgeRules({ status: status(over as Partial<PullRequestStatus>), ...base });
    expect(reasons.join("\n")).toMatch(reason);
  });
  it("keeps a PR that touches a protected path, an empty PR, and one whose claims are not in the diff", () => {
    expect(
      judgeRules({ status: status(), ...base, diffFiles: [".github/workflows/ci.yml", "a.ts"] }),
    ).toEqual(["it changes protected paths: .github/workflows/ci.yml"]);
    expect(judgeRules({ status: status(), ...base, diffFiles: [] })).toEqual([
      "the pull request changes no files",
    ]);
    expect(judgeRules({ status: status(), ...base, claimed: ["src/a.ts", "src/b.ts"] })).toEqual([
      "the agent says it changed src/b.ts, but the diff does not touch it",
    ]);
  });
  it("applies review back-pressure at max_ready_prs", () => {
    expect(judgeRules({ status: status(), ...base, readyCount: 5 })[0]).toMatch(/max_ready_prs: 5/);
    expect(judgeRules({ status: status(), ...base, readyCount: 4 })).toEqual([]);
  });
});

describe("claimedFiles", () => {
  it("reads paths on lines with a change verb only", () => {
    const text = [
      "I read `README.md` and `src/config.ts` first.",
      "I updated `src/parse.ts` and added test/parse.test.ts.",
      "Fixed index.js: an off-by-one; ran `npm test`.",
      "Changed nothing else; node test.js prints ok.",
    ].join("\n");
    expect(claimedFiles(text).sort()).toEqual(["index.js", "src/parse.ts", "test/parse.test.ts"]);
  });
});

describe("parseVerdict", () => {
  it("takes the last verdict object, bare or fenced", () => {
    expect(parseVerdict('Looks good.\n{"verdict": "promote", "reasons": ["complete"]}')).toEqual({
      verdict: "promote",
      reasons: ["complete"],
    });
    expect(
      parseVerdict(
        'Draft: {"verdict":"keep","reasons":["x"]}\n```json\n{"verdict":"close","reasons":["wrong issue"]}\n```',
      ),
    ).toEqual({ verdict: "close", reasons: ["wrong issue"] });
  });
  it("answers keep when the model's answer is not a verdict", () => {
    for (const bad of [
      "promote!",
      '{"verdict":"merge","reasons":["x"]}',
      '{"verdict":"promote","reasons":[]}',
      "",
    ]) {
      const v = parseVerdict(bad);
      expect(v.verdict).toBe("keep");
      expect(v.reasons[0]).toMatch(/not a verdict object/);
    }
  });
});
