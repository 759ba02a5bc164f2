import { GITHUB_LOGIN_RE } from "./deque-schema.ts";

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
