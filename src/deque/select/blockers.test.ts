import { describe, expect, it } from "vitest";
import { blockerGraph, blockingCount, parseBlockers } from "./blockers.ts";
import type { QueueItem } from "./item.ts";

const REPO = "acme/widgets";

describe("parseBlockers", () => {
  const positive: [string, number[], number[]?][] = [
    ["blocked by #12", [12]],
    ["Blocked-by: #3, #4", [3, 4]],
    ["BLOCKED BY #3 and #4", [3, 4]],
    ["blocked by #3 #4", [3, 4]],
    ["blocked by #3 & #4; #5", [3, 4, 5]],
    ["depends on #7", [7]],
    ["Depends-On: #7", [7]],
    ["depends on acme/widgets#9", [9]],
    ["depends on Acme/Widgets#9", [9]],
    ["requires #5", [5]],
    ["This needs #6's parser first.", [6]],
    ["waiting on #2", [2]],
    ["Waiting-on: #2", [2]],
    ["- [ ] blocked by #3", [3]],
    ["* [ ] Depends on #3, #4, and #5", [3, 4, 5]],
    ["1. [ ] requires #8", [8]],
    ["**Blocked by:** #11", [11]],
    ["blocked by issue #3 and PR #4", [3, 4]],
    ["depends on the pull request #30", [30]],
    ["depends on https://github.com/acme/widgets/issues/21", [21]],
    ["requires https://github.com/acme/widgets/pull/22#issuecomment-1, #23", [22, 23]],
    ["blocked by #3, depends on #3", [3]],
    ["Refactor (blocked by #4)", [4]],
    ["blocks #8", [], [8]],
    ["Blocks: #8, #9", [], [8, 9]],
    ["blocked by #3; blocks #5", [3], [5]],
    ["blocked by #3\nblocks #4\n\ndepends on #1", [1, 3], [4]],
    ["- [x] blocked by #1\n- [ ] blocked by #2", [2]],
  ];
  it.each(positive)("finds the references in %j", (text, blockedBy, blocks = []) => {
    expect(parseBlockers(text, { repo: REPO })).toEqual({ blockedBy, blocks });
  });

  const negative: string[] = [
    "#12 is not blocked",
    "not blocked by #3",
    "This is no longer blocked by #3",
    "isn't blocked by #3",
    "isn’t blocked by #3",
    "is not being blocked by #3",
    "never depends on #3",
    "no longer needs #3",
    "does not depend on #3",
    "unblocked by #3",
    "deblocks #3",
    "after #8",
    "blocking #3",
    "required by #3",
    "fixes #3, closes #4",
    "needs tests for #3",
    "Blocked by: none",
    "Blocked by:\n- #3",
    "blocked by #0",
    "blocked by #3abc",
    "depends on other/repo#9",
    "depends on https://github.com/other/repo/issues/9",
    "`blocked by #3`",
    "```\nblocked by #3\n```",
    "~~~md\nblocks #3\n~~~",
    "<!-- blocked by #3 -->",
    "<!--\nTemplate: write `blocked by #N` here\nblocked by #3\n-->",
    "~~blocked by #3~~",
    "- [x] blocked by #3",
    "* [X] depends on #3",
  ];
  it.each(negative)("finds nothing in %j", (text) => {
    expect(parseBlockers(text, { repo: REPO })).toEqual({ blockedBy: [], blocks: [] });
  });

  it("drops qualified references when it does not know the item's repository", () => {
    expect(parseBlockers("depends on acme/widgets#9 and #10")).toEqual({ blockedBy: [10], blocks: [] });
  });

  it("resumes after a fenced block closes, and an unclosed fence hides the rest", () => {
    expect(parseBlockers("```\nblocked by #1\n```\nblocked by #2", { repo: REPO }).blockedBy).toEqual([2]);
    expect(
      parseBlockers("blocked by #2\n````\nblocked by #1\n```\nblocked by #3", { repo: REPO }).blockedBy,
    ).toEqual([2]);
  });
});

function item(number: number, body: string, extra: Partial<QueueItem & { state: string }> = {}) {
  return {
    repo: REPO,
    number,
    title: `item ${number}`,
    body,
    author: "alice",
    labels: [],
    createdAt: Date.UTC(2026, 0, number),
    ...extra,
  };
}

describe("blockerGraph", () => {
  const items = [
    item(1, "blocked by #1 (itself)\nblocks #2"),
    item(2, "blocked by #1"), // the same edge as #1's "blocks #2": counts once
    item(3, "depends on #1, #2"),
    item(4, "blocks #1"),
    item(5, "blocked by #1", { state: "closed" }), // closed: not an open item
    item(6, "blocked by #99"), // #99 is not open here
    item(1, "a second copy of #1 that would block #6: blocks #6"), // duplicate: the first wins
    item(1, "blocked by #2 in another repository", { repo: "acme/other" }),
  ];
  const graph = blockerGraph(items);

  it("counts each open item blocked by another open item once", () => {
    expect([1, 2, 3, 4, 5, 6, 99].map((n) => blockingCount(graph, { repo: REPO, number: n }))).toEqual([
      2, 1, 0, 1, 0, 0, 0,
    ]);
    expect(blockingCount(graph, { repo: "acme/other", number: 2 })).toBe(0);
    expect(blockingCount(graph, { repo: "acme/other", number: 1 })).toBe(0);
  });

  it("lists each item's open blockers", () => {
    expect(Object.fromEntries(graph.blockedBy)).toEqual({
      "acme/widgets#1": ["acme/widgets#4"],
      "acme/widgets#2": ["acme/widgets#1"],
      "acme/widgets#3": ["acme/widgets#1", "acme/widgets#2"],
    });
  });

  it("reads the title too, and keys repositories case-insensitively", () => {
    const g = blockerGraph([
      item(1, "", { repo: "Acme/Widgets" }),
      item(2, "", { repo: "acme/widgets", title: "Blocked by #1: add the frobnicator" }),
    ]);
    expect(blockingCount(g, { repo: "ACME/widgets", number: 1 })).toBe(1);
  });
});
