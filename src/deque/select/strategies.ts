import { blockerGraph, blockingCount, type BlockerGraph } from "./blockers.ts";
import { compareNewest, compareOldest, itemKey, itemRef, type QueueItem } from "./item.ts";
import { cooldownFilter, type Attempt, type Skipped } from "./rotation.ts";

import { STRATEGIES, type Strategy } from "../../config/deque-schema.ts";

export { STRATEGIES, type Strategy };

/** What {@link selectItems} picks and how. Matching of repos, authors and labels is case-insensitive. */
export interface SelectOptions {
  strategy: Strategy;
  /** At most this many items are selected: an integer, 0 or more. */
  limit: number;
  /**
   * `include`: an item must carry every one of these labels (as GitHub's `labels` filter on
   * `GET /repos/{owner}/{repo}/issues` and `gh issue list --label a --label b` do).
   * `exclude`: an item carrying any of these is skipped.
   */
  labels?: { include?: readonly string[]; exclude?: readonly string[] };
  /** Only items in these repositories (forge names; the caller resolves a routine's `.`). */
  repos?: readonly string[];
  /** Only items opened by these logins (a routine's filter; the allowlist is {@link filterByAuthor}'s job). */
  authors?: readonly string[];
  /** The PRNG for `random`: values in [0, 1), as `Math.random` (the default). Seed it for reproducible picks. */
  random?: () => number;
  /** The blocker graph for `most-blocking`; default: {@link blockerGraph} of `items`. */
  blockers?: BlockerGraph;
  /** Earlier attempts, for rotation past items that failed recently ({@link cooldownFilter}). */
  rotation?: { attempts: readonly Attempt[]; now: number; cooldownMs?: number };
}

/** What {@link selectItems} decided. */
export interface SelectResult<T> {
  /** The picked items, in strategy order, at most `limit`. */
  selected: T[];
  /** Items left out by a filter, in input order, each with its reason. */
  skipped: Skipped<T>[];
  /** Eligible items not picked only because of `limit` (not listed one by one). */
  overLimit: number;
}

/**
 * Picks up to `limit` items from a queue of open issues or pull requests.
 *
 * Filters first, each item recorded in `skipped` with the first reason that applies, in this
 * order: listed twice (`duplicate`; the first is kept), `state` present and not `open`
 * (`closed`), not in `repos`, not by one of `authors`, lacking an `include` label, carrying an
 * `exclude` label, cooling down after a failed or no-change attempt (`rotation`). The rest are
 * ordered by the strategy and cut to `limit`:
 *
 * - `oldest`: `createdAt` ascending, then `number` ascending.
 * - `newest`: `createdAt` descending, then `number` descending.
 * - `smallest`: `additions + deletions` ascending (a missing half counts 0); items with
 *   neither (issues, unknown size) last; ties oldest first.
 * - `most-blocking`: how many other open items name it as a blocker ({@link blockerGraph}),
 *   descending; ties oldest first.
 * - `random`: a uniform shuffle (forward Fisher–Yates over the items in `oldest` order, one
 *   `random()` draw per picked position), so the pick depends only on the set of items and the
 *   PRNG, not on the input order, and a smaller `limit` picks a prefix of a larger one.
 *
 * Every ordering ends with the repository name, so it is total. Pass only items whose authors
 * are on the allowlist ({@link filterByAuthor}): their text feeds the blocker graph.
 *
 * @throws RangeError when `limit` is not an integer ≥ 0, the strategy is unknown, or `random()`
 * returns a value outside [0, 1).
 */
export function selectItems<T extends QueueItem & { state?: string }>(
  items: readonly T[],
  opts: SelectOptions,
): SelectResult<T> {
  if (!Number.isInteger(opts.limit) || opts.limit < 0) {
    throw new RangeError(`select limit must be a whole number, 0 or more; got ${opts.limit}`);
  }
  if (!(STRATEGIES as readonly string[]).includes(opts.strategy)) {
    throw new RangeError(
      `unknown select strategy ${JSON.stringify(opts.strategy)}; use one of ${STRATEGIES.join(", ")}`,
    );
  }
  const lower = (xs: readonly string[] | undefined) => (xs ? xs.map((x) => x.toLowerCase()) : undefined);
  const repos = lower(opts.repos);
  const authors = lower(opts.authors);
  const include = lower(opts.labels?.include) ?? [];
  const exclude = lower(opts.labels?.exclude) ?? [];

  // Skips carry the input position, so `skipped` comes out in input order.
  const skips: { at: number; skip: Skipped<T> }[] = [];
  const position = new Map<T, number>();
  const seen = new Set<string>();
  let eligible: T[] = [];
  items.forEach((item, at) => {
    const skip = (code: Skipped<T>["code"], reason: string) =>
      skips.push({ at, skip: { item, code, reason } });
    const key = itemKey(item.repo, item.number);
    if (seen.has(key)) return skip("duplicate", `${itemRef(item)} is listed twice; the first is kept`);
    seen.add(key);
    if (item.state !== undefined && item.state !== "open") {
      return skip("closed", `${itemRef(item)} is ${item.state}, not open`);
    }
    if (repos && !repos.includes(item.repo.toLowerCase())) {
      return skip("repo", `repository ${item.repo} is not one of ${list(opts.repos!)}`);
    }
    if (authors && !authors.includes(item.author.toLowerCase())) {
      return skip("author", `author ${item.author} is not one of ${list(opts.authors!)}`);
    }
    const labels = new Set((item.labels ?? []).map((l) => l.toLowerCase()));
    const missing = opts.labels?.include?.filter((_, i) => !labels.has(include[i]!)) ?? [];
    if (missing.length > 0) {
      return skip(
        "label_missing",
        `lacks ${plural("label", missing)} ${list(missing)} required by labels.include`,
      );
    }
    const excluded = opts.labels?.exclude?.filter((_, i) => labels.has(exclude[i]!)) ?? [];
    if (excluded.length > 0) {
      return skip(
        "label_excluded",
        `has ${plural("label", excluded)} ${list(excluded)} excluded by labels.exclude`,
      );
    }
    position.set(item, at);
    eligible.push(item);
  });

  if (opts.rotation) {
    const rested = cooldownFilter(eligible, opts.rotation.attempts, opts.rotation);
    eligible = rested.kept;
    for (const skip of rested.skipped) skips.push({ at: position.get(skip.item)!, skip });
  }
  const skipped = skips.sort((a, b) => a.at - b.at).map((s) => s.skip);

  const ordered = order(eligible, opts, items);
  const selected = ordered.slice(0, opts.limit);
  return { selected, skipped, overLimit: eligible.length - selected.length };
}

function order<T extends QueueItem & { state?: string }>(
  eligible: T[],
  opts: SelectOptions,
  all: readonly T[],
): T[] {
  const items = [...eligible];
  switch (opts.strategy) {
    case "oldest":
      return items.sort(compareOldest);
    case "newest":
      return items.sort(compareNewest);
    case "smallest":
      return items.sort((a, b) => {
        const sa = sizeOf(a);
        const sb = sizeOf(b);
        if (sa !== sb) {
          if (sa === undefined) return 1;
          if (sb === undefined) return -1;
          return sa - sb;
        }
        return compareOldest(a, b);
      });
    case "most-blocking": {
      const graph = opts.blockers ?? blockerGraph(all);
      return items.sort((a, b) => blockingCount(graph, b) - blockingCount(graph, a) || compareOldest(a, b));
    }
    case "random":
      return shuffle(items.sort(compareOldest), opts.limit, opts.random ?? Math.random);
  }
}

/** `additions + deletions`, or `undefined` when the item carries neither. */
function sizeOf(item: QueueItem): number | undefined {
  const known = (n: number | undefined) => typeof n === "number" && Number.isFinite(n);
  if (!known(item.additions) && !known(item.deletions)) return undefined;
  return (known(item.additions) ? item.additions! : 0) + (known(item.deletions) ? item.deletions! : 0);
}

/** Forward Fisher–Yates (Durstenfeld): fills positions 0..picks-1 with uniform picks of the rest. */
function shuffle<T>(items: T[], picks: number, random: () => number): T[] {
  const n = items.length;
  for (let i = 0; i < Math.min(picks, n - 1); i++) {
    const r = random();
    if (!(r >= 0 && r < 1)) {
      throw new RangeError(`select random() must return a number in [0, 1) like Math.random; got ${r}`);
    }
    const j = i + Math.floor(r * (n - i));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function plural(word: string, xs: readonly unknown[]): string {
  return xs.length === 1 ? word : `${word}s`;
}

function list(xs: readonly string[]): string {
  return xs.map((x) => JSON.stringify(x)).join(", ");
}
