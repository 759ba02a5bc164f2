import { GITHUB_LOGIN_RE } from "../../config/workflow-schema.ts";

export { GITHUB_LOGIN_RE };

/**
 * The accounts whose text agents may act on: an explicit list of logins, compared
 * case-insensitively (GitHub logins are case-insensitive). There is no wildcard; an empty list
 * allows no one.
 *
 * A bot is allowed only when listed with its `[bot]` suffix, exactly as GitHub's REST API and
 * web UI show it: `dependabot[bot]` allows the bot, `dependabot` does not (and the reverse).
 * A forge adapter that reads GraphQL, where `Bot.login` has no suffix, must add it.
 */
export class AuthorAllowlist {
  /** The logins as given, in order, without duplicates (first spelling kept). */
  readonly logins: readonly string[];
  readonly #lower: ReadonlySet<string>;

  /**
   * @throws Error when an entry is `*` (or contains `*`) or is not a GitHub login; the message
   * names the entry and its position.
   */
  constructor(logins: Iterable<string>) {
    const kept: string[] = [];
    const lower = new Set<string>();
    let i = 0;
    for (const login of logins) {
      if (login.includes("*")) {
        throw new Error(
          `author allowlist entry ${i + 1} is ${JSON.stringify(login)}: wildcards are not allowed; ` +
            `list each GitHub login whose issues, pull requests and comments agents may act on`,
        );
      }
      if (!GITHUB_LOGIN_RE.test(login)) {
        throw new Error(
          `author allowlist entry ${i + 1} is ${JSON.stringify(login)}, not a GitHub login; ` +
            `write it without "@", such as "octocat" or "dependabot[bot]"`,
        );
      }
      const key = login.toLowerCase();
      if (!lower.has(key)) {
        lower.add(key);
        kept.push(login);
      }
      i++;
    }
    this.logins = kept;
    this.#lower = lower;
  }

  /** Whether `login` is on the list (case-insensitive; `[bot]` must match too). */
  has(login: string): boolean {
    return this.#lower.has(login.toLowerCase());
  }
}

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
