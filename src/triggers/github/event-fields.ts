import type { GithubEventName } from "./events.ts";

/**
 * The value at a dotted path (`"pull_request.base.ref"`) of a parsed JSON payload, or
 * `undefined` when any step is missing or not an object. Only own properties are read.
 *
 * @param value - the parsed payload (untrusted: any JSON value).
 * @param path - property names separated by dots.
 */
export function dig(value: unknown, path: string): unknown {
  let cur = value;
  for (const key of path.split(".")) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key))
      return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Where an event's *author* is, for the `authors` filter: the person who wrote the item the
 * agent will read (the pull request, issue, comment, review or release), not whoever caused
 * the delivery. So a maintainer labelling a stranger's issue does not let the stranger's
 * text through an `authors` allowlist. Events without such an item (`push`, `check_run`,
 * `check_suite`) use `sender.login`, the account that pushed or (re)requested the check.
 */
export const AUTHOR_FIELD: Record<GithubEventName, string> = {
  pull_request: "pull_request.user.login",
  pull_request_review: "review.user.login",
  pull_request_review_comment: "comment.user.login",
  issues: "issue.user.login",
  issue_comment: "comment.user.login",
  release: "release.author.login",
  check_run: "sender.login",
  check_suite: "sender.login",
  push: "sender.login",
};

/**
 * Where the `author_association` of an event's author (see {@link AUTHOR_FIELD}) is, for the
 * events whose text a stranger can write: the pull request, issue, comment, review or review
 * comment the delivery is about. The author-trust gate (author-gate.ts) reads it; events not
 * listed here (`release`, `push`, `check_run`, `check_suite`) come from accounts that already
 * have write access or from apps, and are not gated.
 */
export const AUTHOR_ASSOCIATION_FIELD: Partial<Record<GithubEventName, string>> = {
  pull_request: "pull_request.author_association",
  pull_request_review: "review.author_association",
  pull_request_review_comment: "comment.author_association",
  issues: "issue.author_association",
  issue_comment: "comment.author_association",
};

/** Where an event's title is: the pull request's or issue's title, the release's name. */
export const TITLE_FIELD: Partial<Record<GithubEventName, string>> = {
  pull_request: "pull_request.title",
  pull_request_review: "pull_request.title",
  pull_request_review_comment: "pull_request.title",
  issues: "issue.title",
  issue_comment: "issue.title",
  release: "release.name",
};

/** Where an event's labels are (arrays of `{ name }`). */
export const LABELS_FIELD: Partial<Record<GithubEventName, string>> = {
  pull_request: "pull_request.labels",
  pull_request_review: "pull_request.labels",
  pull_request_review_comment: "pull_request.labels",
  issues: "issue.labels",
  issue_comment: "issue.labels",
};

/** Where an event's draft flag is. */
export const DRAFT_FIELD: Partial<Record<GithubEventName, string>> = {
  pull_request: "pull_request.draft",
  pull_request_review: "pull_request.draft",
  pull_request_review_comment: "pull_request.draft",
};

/** Where an event's merged flag is (review payloads carry a short pull request without it). */
export const MERGED_FIELD: Partial<Record<GithubEventName, string>> = {
  pull_request: "pull_request.merged",
};

/** Where an event's base branch(es) are; `push` and checks are handled in code. */
export const BASE_FIELD: Partial<Record<GithubEventName, string>> = {
  pull_request: "pull_request.base.ref",
  pull_request_review: "pull_request.base.ref",
  pull_request_review_comment: "pull_request.base.ref",
  push: "ref",
  check_run: "check_run.pull_requests",
  check_suite: "check_suite.pull_requests",
};

/** A string field, or `undefined` when absent or not a string. */
export function str(value: unknown, path: string): string | undefined {
  const v = dig(value, path);
  return typeof v === "string" ? v : undefined;
}

/** The `name`s of a labels array, or `undefined` when the field is not an array. */
export function labelNames(value: unknown, path: string): string[] | undefined {
  const v = dig(value, path);
  if (!Array.isArray(v)) return undefined;
  return v
    .map((l) => (typeof l === "object" && l !== null ? (l as { name?: unknown }).name : l))
    .filter((n): n is string => typeof n === "string");
}
