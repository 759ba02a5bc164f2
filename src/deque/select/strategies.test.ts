import { describe, expect, it } from "vitest";
import { prng } from "../../../test/support/prng.ts";
import { blockerGraph, blockingCount } from "./blockers.ts";
import { itemKey, type QueueItem } from "./item.ts";
import type { Attempt } from "./rotation.ts";
import { selectItems, STRATEGIES, type SelectOptions, type Strategy } from "./strategies.ts";

const REPO = "acme/widgets";
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

type Item = QueueItem & { state?: string };

function item(number: number, extra: Partial<Item> = {}): Item {
  return {
    repo: REPO,
    number,
    title: `item ${number}`,
    body: "",
    author: "alice",
    labels: ["agent"],
    createdAt: T0 + number * DAY,
    ...extra,
  };
}

const numbers = (xs: readonly { number: number }[]) => xs.map((x) => x.number);
const pick = (items: Item[], opts: Partial<SelectOptions> & { strategy: Strategy }) =>
  numbers(selectItems(items, { limit: 100, ...opts }).selected);

describe("selectItems strategies", () => {
  // #3 and #5 were opened at the same moment; #1 is the newest.
  const items = [
    item(5, { createdAt: T0 }),
    item(1, { createdAt: T0 + 9 * DAY }),
    item(3, { createdAt: T0 }),
    item(2),
  ];

  it("oldest: createdAt ascending, ties by number ascending", () => {
    expect(pick(items, { strategy: "oldest" })).toEqual([3, 5, 2, 1]);
  });

  it("newest: createdAt descending, ties by number descending", () => {
    expect(pick(items, { strategy: "newest" })).toEqual([1, 2, 5, 3]);
  });

  it("orders ties across repositories by repository name, whatever the input order", () => {
    const a = item(1, { repo: "acme/b", createdAt: T0 });
    const b = item(1, { repo: "acme/a", createdAt: T0 });
    expect(selectItems([a, b], { strategy: "oldest", limit: 2 }).selected).toEqual([b, a]);
    expect(selectItems([b, a], { strategy: "newest", limit: 2 }).selected).toEqual([b, a]);
  });

  it("smallest: additions + deletions ascending, ties oldest first, items without a size last", () => {
    const prs = [
      item(1), // issue: no size
      item(2, { additions: 50, deletions: 50 }),
      item(3, { additions: 5, deletions: 0 }),
      item(4, { additions: 3, deletions: 2, createdAt: T0 }), // same size as #3, older
      item(5, { deletions: 1 }), // a missing half counts 0
      item(6, { createdAt: T0 }), // no size, older than #1
    ];
    expect(pick(prs, { strategy: "smallest" })).toEqual([5, 4, 3, 2, 6, 1]);
  });

  it("most-blocking: most open items blocked first, ties oldest first", () => {
    const queue = [
      item(1, { body: "blocked by #4" }),
      item(2, { body: "depends on #4\nblocked by #3" }),
      item(3, { body: "" }),
      item(4, { body: "" }),
      item(5, { body: "blocks #6" }),
      item(6, { body: "blocked by #3", labels: [] }), // not selectable, but its blocker counts
    ];
    const graph = blockerGraph(queue);
    expect([4, 3, 5, 1].map((n) => blockingCount(graph, { repo: REPO, number: n }))).toEqual([2, 2, 1, 0]);
    expect(pick(queue, { strategy: "most-blocking", labels: { include: ["agent"] } })).toEqual([
      3, 4, 5, 1, 2,
    ]);
  });

  it("most-blocking uses a graph the caller passes", () => {
    const blockers = { blocking: new Map([[itemKey(REPO, 2), 7]]), blockedBy: new Map() };
    expect(
      pick([item(1, { body: "blocks #3" }), item(2), item(3)], { strategy: "most-blocking", blockers }),
    ).toEqual([2, 1, 3]);
  });

  describe("random", () => {
    const queue = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => item(n));
    const shuffled = (seed: number, limit: number, input = queue) =>
      numbers(selectItems(input, { strategy: "random", limit, random: prng(seed).next }).selected);

    it("is reproducible from the seed and does not depend on the input order", () => {
      const reversed = [...queue].reverse();
      for (let seed = 1; seed <= 20; seed++) {
        expect(shuffled(seed, 8), `seed ${seed}`).toEqual(shuffled(seed, 8));
        expect(shuffled(seed, 8, reversed), `seed ${seed}`).toEqual(shuffled(seed, 8));
        expect([...shuffled(seed, 8)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      }
      expect(new Set([1, 2, 3, 4, 5].map((seed) => shuffled(seed, 8).join(","))).size).toBeGreaterThan(1);
    });

    it("picks a prefix of the larger pick for a smaller limit", () => {
      for (let seed = 1; seed <= 20; seed++) {
        expect(shuffled(seed, 3), `seed ${seed}`).toEqual(shuffled(seed, 8).slice(0, 3));
      }
    });

    it("gives every item a fair share of first picks (no starvation)", () => {
      const firsts = new Map<number, number>();
      const runs = 4000;
      for (let seed = 1; seed <= runs; seed++) {
        const [first] = shuffled(seed, 1);
        firsts.set(first!, (firsts.get(first!) ?? 0) + 1);
      }
      const expected = runs / queue.length;
      for (const n of numbers(queue))
        expect(Math.abs((firsts.get(n) ?? 0) - expected)).toBeLessThan(expected * 0.2);
    });

    it("refuses a PRNG that leaves [0, 1)", () => {
      expect(() => selectItems(queue, { strategy: "random", limit: 2, random: () => 1 })).toThrow(RangeError);
      expect(() => selectItems(queue, { strategy: "random", limit: 2, random: () => Number.NaN })).toThrow(
        /must return a number in \[0, 1\)/,
      );
    });
  });
});

describe("selectItems limits and filters", () => {
  it("cuts to the limit and counts what was left over, not listing it", () => {
    const queue = [1, 2, 3, 4].map((n) => item(n));
    const r = selectItems(queue, { strategy: "oldest", limit: 2 });
    expect(numbers(r.selected)).toEqual([1, 2]);
    expect(r.skipped).toEqual([]);
    expect(r.overLimit).toBe(2);
    expect(selectItems(queue, { strategy: "oldest", limit: 0 })).toEqual({
      selected: [],
      skipped: [],
      overLimit: 4,
    });
    expect(selectItems(queue, { strategy: "newest", limit: 10 }).overLimit).toBe(0);
  });

  it("refuses a limit that is not a whole number ≥ 0, and an unknown strategy", () => {
    expect(() => selectItems([], { strategy: "oldest", limit: -1 })).toThrow(/limit must be a whole number/);
    expect(() => selectItems([], { strategy: "oldest", limit: 1.5 })).toThrow(RangeError);
    expect(() => selectItems([], { strategy: "biggest" as Strategy, limit: 1 })).toThrow(
      /unknown select strategy "biggest"; use one of oldest, newest, random, smallest, most-blocking/,
    );
  });

  it("needs every included label and none of the excluded ones, case-insensitively", () => {
    const queue = [
      item(1, { labels: ["Agent", "bug"] }),
      item(2, { labels: ["agent"] }),
      item(3, { labels: ["bug"] }),
      item(4, { labels: ["agent", "bug", "WontFix"] }),
      item(5, { labels: undefined }),
    ];
    const r = selectItems(queue, {
      strategy: "oldest",
      limit: 10,
      labels: { include: ["agent", "BUG"], exclude: ["wontfix", "duplicate"] },
    });
    expect(numbers(r.selected)).toEqual([1]);
    expect(r.skipped.map((s) => [s.item.number, s.code, s.reason])).toEqual([
      [2, "label_missing", 'lacks label "BUG" required by labels.include'],
      [3, "label_missing", 'lacks label "agent" required by labels.include'],
      [4, "label_excluded", 'has label "wontfix" excluded by labels.exclude'],
      [5, "label_missing", 'lacks labels "agent", "BUG" required by labels.include'],
    ]);
  });

  it("filters by repository and author, case-insensitively, and records why", () => {
    const queue = [
      item(1, { repo: "Acme/Widgets" }),
      item(2, { repo: "acme/gadgets" }),
      item(3, { author: "BOB" }),
      item(4, { author: "dependabot[bot]" }),
    ];
    const r = selectItems(queue, {
      strategy: "oldest",
      limit: 10,
      repos: ["acme/widgets"],
      authors: ["bob", "alice"],
    });
    expect(numbers(r.selected)).toEqual([1, 3]);
    expect(r.skipped.map((s) => [s.item.number, s.code, s.reason])).toEqual([
      [2, "repo", 'repository acme/gadgets is not one of "acme/widgets"'],
      [4, "author", 'author dependabot[bot] is not one of "bob", "alice"'],
    ]);
  });

  it("keeps the first of an item listed twice and skips items that are not open", () => {
    const first = item(1);
    const r = selectItems(
      [first, item(2, { state: "merged" }), item(1, { repo: "ACME/widgets" }), item(3, { state: "open" })],
      {
        strategy: "oldest",
        limit: 10,
      },
    );
    expect(r.selected).toEqual([first, item(3, { state: "open" })]);
    expect(r.selected[0]).toBe(first);
    expect(r.skipped.map((s) => [s.item.number, s.code])).toEqual([
      [2, "closed"],
      [1, "duplicate"],
    ]);
  });

  it("rotates past an item that failed recently, so it cannot starve the queue", () => {
    const queue = [1, 2, 3].map((n) => item(n));
    const now = T0 + 30 * DAY;
    const attempts: Attempt[] = [
      { repo: REPO, number: 1, at: now - 2 * 3_600_000, outcome: "failed" },
      { repo: REPO, number: 2, at: now - 3 * DAY, outcome: "failed" }, // rested long enough
    ];
    const r = selectItems(queue, { strategy: "oldest", limit: 1, rotation: { attempts, now } });
    expect(numbers(r.selected)).toEqual([2]);
    expect(r.skipped.map((s) => [s.item.number, s.code])).toEqual([[1, "cooling_down"]]);
    expect(r.skipped[0]!.reason).toMatch(
      /^cooling down until 2026-01-31T22:00:00\.000Z after a failed attempt$/,
    );
    expect(r.overLimit).toBe(1);
    // A day later #1 is the oldest again.
    expect(
      numbers(
        selectItems(queue, { strategy: "oldest", limit: 1, rotation: { attempts, now: now + DAY } }).selected,
      ),
    ).toEqual([1]);
  });

  it("lists skipped items in input order, whichever filter skipped them", () => {
    const queue = [item(4), item(3, { labels: [] }), item(2), item(1, { author: "eve" })];
    const attempts: Attempt[] = [{ repo: REPO, number: 4, at: T0, outcome: "no_changes" }];
    const r = selectItems(queue, {
      strategy: "oldest",
      limit: 1,
      labels: { include: ["agent"] },
      authors: ["alice"],
      rotation: { attempts, now: T0 + 1 },
    });
    expect(r.skipped.map((s) => s.item.number)).toEqual([4, 3, 1]);
    expect(numbers(r.selected)).toEqual([2]);
  });
});

describe("selectItems properties over random queues", () => {
  const REPOS = ["acme/a", "acme/b", "Acme/C"];
  const AUTHORS = ["alice", "bob", "Carol", "dependabot[bot]"];
  const LABELS = ["agent", "bug", "wontfix", "Docs"];

  function randomCase(seed: number) {
    const r = prng(seed);
    const subset = <T>(xs: readonly T[]) => xs.filter(() => r.next() < 0.5);
    const pool: Item[] = [];
    const count = r.int(25);
    for (let i = 0; i < count; i++) {
      // Reuse earlier items sometimes, as the same object or a copy, to make duplicates.
      if (pool.length > 0 && r.next() < 0.1) {
        const again = r.pick(pool);
        pool.push(r.next() < 0.5 ? again : { ...again, title: "copy" });
        continue;
      }
      const n = 1 + r.int(30);
      const sized = r.next() < 0.6;
      pool.push({
        repo: r.pick(REPOS),
        number: n,
        title: `#${n}`,
        body: Array.from(
          { length: r.int(3) },
          () => `${r.pick(["blocked by", "blocks", "needs", "not blocked by"])} #${1 + r.int(30)}`,
        ).join("\n"),
        author: r.pick(AUTHORS),
        labels: subset(LABELS),
        createdAt: T0 + r.int(10) * DAY,
        ...(sized ? { additions: r.int(500), deletions: r.int(500) } : {}),
        ...(r.next() < 0.1 ? { state: r.pick(["closed", "merged"]) } : {}),
      });
    }
    const now = T0 + 20 * DAY;
    const attempts: Attempt[] = Array.from({ length: r.int(10) }, () => ({
      repo: r.pick(REPOS),
      number: 1 + r.int(30),
      at: now - r.int(3 * DAY),
      outcome: r.pick(["succeeded", "failed", "no_changes"] as const),
    }));
    const opts: SelectOptions = {
      strategy: r.pick(STRATEGIES),
      limit: r.int(6),
      random: prng(seed * 7919).next,
      ...(r.next() < 0.5
        ? { labels: { include: subset(["agent", "BUG"]), exclude: subset(["WontFix"]) } }
        : {}),
      ...(r.next() < 0.3 ? { repos: subset(REPOS.map((x) => x.toUpperCase())) } : {}),
      ...(r.next() < 0.3 ? { authors: subset(AUTHORS) } : {}),
      ...(r.next() < 0.5 ? { rotation: { attempts, now, cooldownMs: r.int(2 * DAY) } } : {}),
    };
    return { items: pool, opts };
  }

  it("selects a duplicate-free subset of at most limit items and accounts for every item", () => {
    const seen = new Set<string>(); // strategies and skip codes the random cases reached
    for (let seed = 1; seed <= 500; seed++) {
      const { items, opts } = randomCase(seed);
      const { selected, skipped, overLimit } = selectItems(items, opts);
      if (selected.length > 1) seen.add(opts.strategy);
      for (const s of skipped) seen.add(s.code);
      if (overLimit > 0) seen.add("over limit");
      const at = `seed ${seed}`;
      expect(selected.length, at).toBeLessThanOrEqual(opts.limit);
      for (const s of selected) expect(items.includes(s), at).toBe(true);
      const keys = selected.map((s) => itemKey(s.repo, s.number));
      expect(new Set(keys).size, at).toBe(keys.length);
      // Every item is selected, skipped with a reason, or counted over the limit — exactly once.
      expect(selected.length + skipped.length + overLimit, at).toBe(items.length);
      for (const s of skipped) {
        expect(s.reason.length, at).toBeGreaterThan(10);
        // A duplicate may be the very object kept at its first position; anything else was not picked.
        if (s.code !== "duplicate") expect(selected.includes(s.item), at).toBe(false);
      }
      const firsts = new Map<string, Item>();
      for (const i of items)
        if (!firsts.has(itemKey(i.repo, i.number))) firsts.set(itemKey(i.repo, i.number), i);
      expect(skipped.filter((s) => s.code === "duplicate").length, at).toBe(items.length - firsts.size);
      // What was not picked is never ahead of what was, in the strategy's order.
      const eligible = [...firsts.values()].filter(
        (i) => !selected.includes(i) && !skipped.some((s) => s.item === i && s.code !== "duplicate"),
      );
      expect(eligible.length, at).toBe(overLimit);
      if (selected.length > 0 && eligible.length > 0 && opts.strategy === "oldest") {
        const last = selected.at(-1)!;
        for (const e of eligible) expect(e.createdAt, at).toBeGreaterThanOrEqual(last.createdAt);
      }
      if (opts.strategy === "oldest") {
        for (let i = 1; i < selected.length; i++)
          expect(selected[i]!.createdAt).toBeGreaterThanOrEqual(selected[i - 1]!.createdAt);
      }
      if (opts.strategy === "newest") {
        for (let i = 1; i < selected.length; i++)
          expect(selected[i]!.createdAt).toBeLessThanOrEqual(selected[i - 1]!.createdAt);
      }
      if (opts.strategy === "most-blocking") {
        const graph = blockerGraph(items);
        const counts = selected.map((s) => blockingCount(graph, s));
        for (let i = 1; i < counts.length; i++) expect(counts[i], at).toBeLessThanOrEqual(counts[i - 1]!);
        for (const e of eligible)
          expect(blockingCount(graph, e), at).toBeLessThanOrEqual(counts.at(-1) ?? Infinity);
      }
      if (opts.strategy === "smallest") {
        const size = (x: QueueItem) => (x.additions === undefined ? Infinity : x.additions + x.deletions!);
        for (let i = 1; i < selected.length; i++)
          expect(size(selected[i]!), at).toBeGreaterThanOrEqual(size(selected[i - 1]!));
      }
    }
    expect([...seen].sort()).toEqual(
      [
        ...STRATEGIES,
        "author",
        "closed",
        "cooling_down",
        "duplicate",
        "label_excluded",
        "label_missing",
        "over limit",
        "repo",
      ].sort(),
    );
  });
});
