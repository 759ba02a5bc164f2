import type { Selectable } from "kysely";
import type {
  ForgeChecksTable,
  ForgeCommentsTable,
  ForgeIssuesTable,
  ForgePullRequestsTable,
} from "../../store/schema.ts";
import type { CheckResult, Comment, Issue, PullRequest } from "../types.ts";

/** A stored issue as the forge's {@link Issue}. */
export function toIssue(r: Selectable<ForgeIssuesTable>): Issue {
  return {
    repo: r.repo,
    number: r.number,
    title: r.title,
    body: r.body,
    author: r.author,
    labels: JSON.parse(r.labels) as string[],
    state: r.state,
    createdAt: Number(r.created_at),
  };
}

/** A stored pull request as the forge's {@link PullRequest}; `tips` (branch → commit) gives its `headSha`. */
export function toPullRequest(r: Selectable<ForgePullRequestsTable>, tips: Map<string, string>): PullRequest {
  const headSha = tips.get(r.head);
  return {
    repo: r.repo,
    number: r.number,
    title: r.title,
    body: r.body,
    author: r.author,
    head: r.head,
    base: r.base,
    draft: r.draft === 1,
    state: r.state,
    sessionId: r.session_id,
    ...(headSha ? { headSha } : {}),
    labels: JSON.parse(r.labels) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** A stored comment (conversation or review) as the forge's {@link Comment}. */
export function toComment(r: Selectable<ForgeCommentsTable>): Comment {
  return {
    id: r.id,
    repo: r.repo,
    number: r.number,
    author: r.author,
    body: r.body,
    createdAt: Number(r.created_at),
  };
}

/** A stored check as the forge's {@link CheckResult}. */
export function toCheck(r: Selectable<ForgeChecksTable>): CheckResult {
  return {
    name: r.name,
    status: r.status,
    conclusion: r.conclusion,
    required: r.required === 1,
    ...(r.url ? { url: r.url } : {}),
    ...(r.output !== null ? { output: r.output } : {}),
  };
}
