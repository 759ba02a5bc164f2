import { AuthorAllowlist } from "../../config/author-allowlist.ts";
import { GITHUB_LOGIN_RE } from "../../config/deque-schema.ts";

export { AuthorAllowlist, GITHUB_LOGIN_RE };

/** What an authored thing is, in GitHub's terms. */
export type AuthoredKind = "issue" | "pull_request" | "comment" | "review" | "review_comment";

/**
 * Anything with an author: an issue, a pull request, a comment, a review, a review comment.
 * `number` is the issue or pull request it is (or belongs to); `id` names a comment or review.
 */
export interface Authored {
  author: string;
  number: number;
  id?: string | number;
}

/**
 * What was filtered out and why, without the text: the session records these so a reader can
 * see that something was ignored, never what it said.
 */
export interface FilteredRecord {
  kind: AuthoredKind;
  number: number;
  id?: string | number;
  author: string;
}

/**
 * Keeps the items whose author is on the allowlist and records the others. An issue or pull
 * request whose own author is not allowlisted is not selected at all; comments, reviews and
 * review comments from others are dropped before any text reaches an agent.
 *
 * `kind` says what the items are (one kind per call). Each record holds only `kind`, `number`,
 * `id` (when the item has one) and `author`: never a title or body.
 */
export function filterByAuthor<T extends Authored>(
  items: readonly T[],
  allowlist: AuthorAllowlist,
  kind: AuthoredKind,
): { kept: T[]; filtered: FilteredRecord[] } {
  const kept: T[] = [];
  const filtered: FilteredRecord[] = [];
  for (const item of items) {
    if (allowlist.has(item.author)) {
      kept.push(item);
    } else {
      const record: FilteredRecord = { kind, number: item.number, author: item.author };
      if (item.id !== undefined) record.id = item.id;
      filtered.push(record);
    }
  }
  return { kept, filtered };
}
