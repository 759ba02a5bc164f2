/**
 * GitHub replies (REST and GraphQL) turned into the forge's shapes. Enum values become the
 * lower-case forms documented in `src/forge/types.ts`.
 */
import type { CheckResult, Comment, Issue, PullRequest, PullRequestStatus, ReviewThread } from "../types.ts";
import type {
  AddCommentPayload,
  ContextNode,
  PullRequestStatusNode,
  ReviewCommentNode,
  ReviewThreadNode,
} from "./queries.ts";

/** A repository name split into GitHub's owner and name; `full` is `owner/name`. */
export interface RepoId {
  owner: string;
  name: string;
  full: string;
}

/**
 * Where the session that opened a PR is recorded on GitHub: a hidden HTML comment at the end
 * of the PR body (GitHub renders it invisibly). {@link withSessionMarker} adds it,
 * {@link splitSessionMarker} reads and strips it.
 */
const SESSION_MARKER = /\n*<!-- nightshift-session: ([A-Za-z0-9_.:-]+) -->\s*$/;

export function withSessionMarker(body: string, sessionId: string | null): string {
  return sessionId ? `${body}\n\n<!-- nightshift-session: ${sessionId} -->` : body;
}

export function splitSessionMarker(body: string | null | undefined): {
  body: string;
  sessionId: string | null;
} {
  const text = body ?? "";
  const m = SESSION_MARKER.exec(text);
  return m ? { body: text.slice(0, m.index), sessionId: m[1]! } : { body: text, sessionId: null };
}

/** Milliseconds since the epoch from GitHub's ISO 8601 timestamps. */
export function ms(iso: string | null | undefined): number {
  return iso ? Date.parse(iso) : 0;
}

type RestLabel = string | { name?: string | null };

function labelNames(labels: readonly RestLabel[] | undefined): string[] {
  return (labels ?? []).map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((n) => n !== "");
}

/** The REST issue fields the adapter reads (`components["schemas"]["issue"]`). */
export interface RestIssue {
  number: number;
  title: string;
  body?: string | null;
  user: { login: string } | null;
  labels: RestLabel[];
  state: string;
  created_at: string;
  pull_request?: unknown;
}

export function toIssue(repo: string, i: RestIssue): Issue {
  return {
    repo,
    number: i.number,
    title: i.title,
    body: i.body ?? "",
    author: i.user?.login ?? "ghost",
    labels: labelNames(i.labels),
    state: i.state === "closed" ? "closed" : "open",
    createdAt: ms(i.created_at),
  };
}

/** The REST pull request fields the adapter reads (`components["schemas"]["pull-request-simple"]`). */
export interface RestPullRequest {
  number: number;
  title: string;
  body: string | null;
  user: { login: string } | null;
  labels: RestLabel[];
  state: string;
  draft?: boolean;
  merged_at: string | null;
  created_at: string;
  updated_at: string;
  head: { ref: string; sha: string };
  base: { ref: string };
}

export function toPullRequest(repo: string, p: RestPullRequest): PullRequest {
  const { body, sessionId } = splitSessionMarker(p.body);
  return {
    repo,
    number: p.number,
    title: p.title,
    body,
    author: p.user?.login ?? "ghost",
    head: p.head.ref,
    base: p.base.ref,
    draft: p.draft === true,
    state: p.merged_at ? "merged" : p.state === "closed" ? "closed" : "open",
    sessionId,
    headSha: p.head.sha,
    labels: labelNames(p.labels),
    createdAt: ms(p.created_at),
    updatedAt: ms(p.updated_at),
  };
}

/** The REST issue comment fields the adapter reads (`components["schemas"]["issue-comment"]`). */
export interface RestComment {
  id: number | bigint;
  body?: string;
  user: { login: string } | null;
  created_at: string;
}

export function toComment(repo: string, number: number, c: RestComment): Comment {
  return {
    id: String(c.id),
    repo,
    number,
    author: c.user?.login ?? "ghost",
    body: c.body ?? "",
    createdAt: ms(c.created_at),
  };
}

/**
 * The comment a GraphQL `addComment` created, in the same shape as {@link toComment} gives for
 * REST: `id` is the REST id (`fullDatabaseId`), and a `Bot` author gets REST's `[bot]` suffix
 * (GraphQL names bots without it). `null` when the payload has no comment.
 */
export function toCommentFromGraphql(
  repo: string,
  number: number,
  payload: AddCommentPayload | null,
): Comment | null {
  const node = payload?.commentEdge?.node;
  if (!node || node.fullDatabaseId === null) return null;
  const a = node.author;
  return {
    id: String(node.fullDatabaseId),
    repo,
    number,
    author: a ? (a.__typename === "Bot" ? `${a.login}[bot]` : a.login) : "ghost",
    body: node.body,
    createdAt: ms(node.createdAt),
  };
}

/**
 * A check run or commit status as a {@link CheckResult}. Check run `status`: `COMPLETED` →
 * `completed`, `IN_PROGRESS` → `in_progress`, the waiting states (`QUEUED`, `WAITING`,
 * `PENDING`, `REQUESTED`) → `queued`. Commit status `state`: `PENDING` → `in_progress`,
 * `EXPECTED` (required, never reported) → `queued`, `SUCCESS|FAILURE|ERROR` → completed with
 * that conclusion.
 */
export function toCheck(c: ContextNode): CheckResult {
  if (c.__typename === "CheckRun") {
    const status =
      c.status === "COMPLETED" ? "completed" : c.status === "IN_PROGRESS" ? "in_progress" : "queued";
    const output = [c.title, c.summary, c.text].filter((s): s is string => !!s).join("\n\n");
    return {
      name: c.name,
      status,
      conclusion: status === "completed" && c.conclusion ? c.conclusion.toLowerCase() : null,
      required: c.isRequired,
      ...(c.detailsUrl ? { url: c.detailsUrl } : {}),
      ...(output ? { output } : {}),
    };
  }
  const done = c.state === "SUCCESS" || c.state === "FAILURE" || c.state === "ERROR";
  return {
    name: c.context,
    status: done ? "completed" : c.state === "PENDING" ? "in_progress" : "queued",
    conclusion: done ? c.state.toLowerCase() : null,
    required: c.isRequired,
    ...(c.targetUrl ? { url: c.targetUrl } : {}),
    ...(c.description ? { output: c.description } : {}),
  };
}

/** `MERGEABLE` → true, `CONFLICTING` → false, `UNKNOWN` (still computing) → null. */
export function toMergeable(m: PullRequestStatusNode["mergeable"]): boolean | null {
  return m === "MERGEABLE" ? true : m === "CONFLICTING" ? false : null;
}

export function toStatus(repo: string, n: PullRequestStatusNode, checks: CheckResult[]): PullRequestStatus {
  const compare = n.baseRef?.compare;
  return {
    repo,
    number: n.number,
    title: n.title,
    author: n.author?.login ?? "ghost",
    head: n.headRefName,
    base: n.baseRefName,
    headSha: n.headRefOid,
    draft: n.isDraft,
    mergeable: toMergeable(n.mergeable),
    mergeState: n.mergeStateStatus.toLowerCase(),
    behindBy: compare ? compare.behindBy : null,
    checks,
    additions: n.additions,
    deletions: n.deletions,
    changedFiles: n.changedFiles,
    labels: (n.labels?.nodes ?? []).flatMap((l) => (l ? [l.name] : [])),
    createdAt: ms(n.createdAt),
    updatedAt: ms(n.updatedAt),
  };
}

export function toReviewThread(
  repo: string,
  number: number,
  t: ReviewThreadNode,
  comments: ReviewCommentNode[],
): ReviewThread {
  return {
    id: t.id,
    resolved: t.isResolved,
    path: t.path || null,
    line: t.line,
    comments: comments.map((c) => ({
      id: c.id,
      repo,
      number,
      author: c.author?.login ?? "ghost",
      body: c.body,
      createdAt: ms(c.createdAt),
    })),
  };
}
