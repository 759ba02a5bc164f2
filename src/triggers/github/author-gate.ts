import { AuthorAllowlist } from "../../config/author-allowlist.ts";
import type { GithubEventName } from "./events.ts";
import { AUTHOR_ASSOCIATION_FIELD, AUTHOR_FIELD, str } from "./event-fields.ts";

/**
 * The `author_association` values trusted by default: the repository's owner, members of the
 * organisation that owns it, and outside collaborators with access (as GitHub Agentic
 * Workflows gates by default). `CONTRIBUTOR`, `FIRST_TIME_CONTRIBUTOR`, `FIRST_TIMER`,
 * `MANNEQUIN` and `NONE` are not trusted: anyone can become a contributor with one merged
 * typo fix.
 */
export const TRUSTED_ASSOCIATIONS = ["OWNER", "MEMBER", "COLLABORATOR"] as const;

/**
 * A routine's `authors:` setting: `"any"` turns the gate off; a list adds logins to the
 * trusted ones; absent means the default gate.
 */
export type RoutineAuthors = "any" | readonly string[] | undefined;

/** Whether a delivery's author may put text into a session's prompt, and if not, why. */
export type AuthorVerdict =
  | { trusted: true; why: string }
  | { trusted: false; login: string | undefined; association: string | undefined; reason: string };

/**
 * Decides whether a GitHub delivery's text may reach a routine's prompt: the author-trust
 * gate, applied to every GitHub trigger before a run is queued.
 *
 * The actor that counts is the author of the text the event is about (see
 * {@link AUTHOR_FIELD} and {@link AUTHOR_ASSOCIATION_FIELD}), not whoever caused the delivery:
 * - `issues`: the author; `pull_request`: the pull request's author;
 * - `issue_comment`, `pull_request_review_comment`: the comment's author;
 * - `pull_request_review`: the review's author.
 * So a maintainer labelling or commenting on a stranger's issue does not vouch for the
 * stranger's text (an `issues.labeled` delivery is gated on the author). The parent
 * item's title and metadata ride along with a comment or review, its body does not.
 * `release`, `push`, `check_run` and `check_suite` are not gated: releases and pushes need
 * write access, and checks are written by apps.
 *
 * Trusted: an `author_association` in {@link TRUSTED_ASSOCIATIONS}, or a login on
 * `deque.allowed_authors` (`allowed`) or on the routine's `authors` list (case-insensitive;
 * bots with their `[bot]` suffix). A payload without the association is not trusted unless
 * the login is listed. `authors: "any"` trusts everyone.
 *
 * @param eventName - the `X-GitHub-Event` header.
 * @param payload - the parsed JSON body (untrusted; never throws on a malformed one).
 * @param opts.allowed - `deque.allowed_authors` from `.nightshift/config.yaml`.
 * @param opts.authors - the routine's `authors:` setting.
 */
export function gateGithubAuthor(
  eventName: string,
  payload: unknown,
  opts: { allowed: readonly string[]; authors: RoutineAuthors },
): AuthorVerdict {
  if (opts.authors === "any") return { trusted: true, why: "the routine sets authors: any" };
  const associationField = AUTHOR_ASSOCIATION_FIELD[eventName as GithubEventName];
  if (!associationField) return { trusted: true, why: `${eventName} events are not gated` };
  const loginField = AUTHOR_FIELD[eventName as GithubEventName];
  const login = str(payload, loginField);
  const association = str(payload, associationField);
  if (association && (TRUSTED_ASSOCIATIONS as readonly string[]).includes(association))
    return { trusted: true, why: `author_association ${association}` };
  const listed = new AuthorAllowlist([...opts.allowed, ...(opts.authors ?? [])]);
  if (login !== undefined && listed.has(login))
    return { trusted: true, why: `@${login} is on deque.allowed_authors or the routine's authors` };
  // The login is payload text: keep it to the characters a login can have.
  const who =
    login === undefined ? `missing (no ${loginField})` : `@${login.slice(0, 60).replace(/[^\w.[\]-]/g, "?")}`;
  return {
    trusted: false,
    login,
    association,
    reason:
      `gated: the ${eventName} author ${who} (${associationField} ${association ?? "missing"}) is not ` +
      `OWNER, MEMBER or COLLABORATOR and not on deque.allowed_authors or the routine's authors, so no ` +
      `session was started with their text; to trust them add the login to the routine's authors ` +
      `(or deque.allowed_authors in .nightshift/config.yaml), or set authors: any to let anyone's text through`,
  };
}
