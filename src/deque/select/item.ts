/**
 * An issue or pull request as the selection layer sees it: plain data, structurally compatible
 * with the forge's `Issue` and `PullRequest` (`src/forge/types.ts`). Times are ms since the
 * epoch; `additions`/`deletions` are changed lines (GitHub's `additions`/`deletions` on a pull
 * request), known only for pull requests.
 */
export interface QueueItem {
  /** The repository as the forge names it (`owner/name` on GitHub). */
  repo: string;
  number: number;
  title: string;
  body: string;
  /** The login of the account that opened the item (bots as `name[bot]`). */
  author: string;
  /** Label names; absent is the same as none (the forge's `PullRequest.labels` is optional). */
  labels?: readonly string[];
  createdAt: number;
  updatedAt?: number;
  /** Lines added by a pull request; absent for issues and when not known. */
  additions?: number;
  /** Lines deleted by a pull request; absent for issues and when not known. */
  deletions?: number;
}

/**
 * The key that names one item across the selection layer: `repo#number` with the repository
 * lower-cased, since GitHub repository names are case-insensitive (`Acme/Widgets` is
 * `acme/widgets`).
 */
export function itemKey(repo: string, number: number): string {
  return `${repo.toLowerCase()}#${number}`;
}

/** `repo#number` as people write it, for reasons and messages. */
export function itemRef(item: { repo: string; number: number }): string {
  return `${item.repo}#${item.number}`;
}

/**
 * Oldest first: `createdAt` ascending, then `number` ascending, then `repo` (so the order is
 * total and does not depend on the input order).
 */
export function compareOldest(a: QueueItem, b: QueueItem): number {
  return a.createdAt - b.createdAt || a.number - b.number || compareText(a.repo, b.repo);
}

/** Newest first: `createdAt` descending, then `number` descending, then `repo` ascending. */
export function compareNewest(a: QueueItem, b: QueueItem): number {
  return b.createdAt - a.createdAt || b.number - a.number || compareText(a.repo, b.repo);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
