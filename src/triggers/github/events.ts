/**
 * The GitHub webhook events a routine can be triggered by, with each event's `action`
 * values (none for `push`, whose payload has no `action`).
 *
 * Source: GitHub Docs, "Webhook events and payloads" (docs.github.com/en/webhooks/webhook-events-and-payloads),
 * cross-checked with the payloads of `@octokit/webhooks-examples`. There is no `merged`
 * action: a merge arrives as `pull_request` `closed` with `pull_request.merged: true`.
 */
export const GITHUB_EVENT_ACTIONS = {
  pull_request: [
    "assigned",
    "auto_merge_disabled",
    "auto_merge_enabled",
    "closed",
    "converted_to_draft",
    "demilestoned",
    "dequeued",
    "edited",
    "enqueued",
    "labeled",
    "locked",
    "milestoned",
    "opened",
    "ready_for_review",
    "reopened",
    "review_request_removed",
    "review_requested",
    "synchronize",
    "unassigned",
    "unlabeled",
    "unlocked",
  ],
  pull_request_review: ["dismissed", "edited", "submitted"],
  pull_request_review_comment: ["created", "deleted", "edited"],
  issues: [
    "assigned",
    "closed",
    "deleted",
    "demilestoned",
    "edited",
    "labeled",
    "locked",
    "milestoned",
    "opened",
    "pinned",
    "reopened",
    "transferred",
    "typed",
    "unassigned",
    "unlabeled",
    "unlocked",
    "unpinned",
    "untyped",
  ],
  issue_comment: ["created", "deleted", "edited"],
  release: ["created", "deleted", "edited", "prereleased", "published", "released", "unpublished"],
  check_run: ["completed", "created", "requested_action", "rerequested"],
  check_suite: ["completed", "requested", "rerequested"],
  push: [],
} as const satisfies Record<string, readonly string[]>;

/** A GitHub event name nightshift can trigger on (the `X-GitHub-Event` header). */
export type GithubEventName = keyof typeof GITHUB_EVENT_ACTIONS;

/** The supported event names, in a stable order for messages. */
export const GITHUB_EVENTS = Object.keys(GITHUB_EVENT_ACTIONS) as GithubEventName[];
