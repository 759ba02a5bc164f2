/**
 * The fake GitHub's state: repositories (backed by bare git repositories), issues and pull
 * requests sharing one number sequence per repository, comments, review threads, check runs
 * and commit statuses per commit, branch protection. Plain data; the HTTP layers read it.
 */
import type { CheckConclusionState, CheckStatusState, StatusState } from "@octokit/graphql-schema";

export interface FakeComment {
  id: number;
  nodeId: string;
  user: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

interface FakeItemBase {
  id: number;
  nodeId: string;
  number: number;
  title: string;
  body: string;
  user: string;
  labels: string[];
  state: "open" | "closed";
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  comments: FakeComment[];
}

export interface FakeIssue extends FakeItemBase {
  kind: "issue";
}

export interface FakeReviewComment {
  id: number;
  nodeId: string;
  user: string;
  body: string;
  createdAt: number;
}

export interface FakeReviewThread {
  nodeId: string;
  isResolved: boolean;
  path: string;
  line: number | null;
  comments: FakeReviewComment[];
}

export interface FakePull extends FakeItemBase {
  kind: "pull";
  /** Node id of the pull request (`PR_…`); the issue side has its own. */
  prNodeId: string;
  head: string;
  base: string;
  draft: boolean;
  mergedAt: number | null;
  mergeCommitSha: string | null;
  /**
   * Test override of `mergeable`: `null` reports `UNKNOWN` (GitHub still computing), booleans
   * force a value. `reads` counts down per GraphQL/REST read; at 0 the override ends.
   */
  mergeableOverride?: { value: boolean | null; reads: number };
  /** Has an approving review (`approve()`); reviews themselves are not modelled. */
  approved?: boolean;
  reviewThreads: FakeReviewThread[];
}

export type FakeItem = FakeIssue | FakePull;

export interface FakeCheckRun {
  kind: "check_run";
  id: number;
  nodeId: string;
  name: string;
  status: CheckStatusState;
  conclusion: CheckConclusionState | null;
  detailsUrl: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  /** When it was added (ms since the epoch): REST `started_at`, and `completed_at` once completed. */
  startedAt?: number;
}

export interface FakeStatus {
  kind: "status";
  id: number;
  nodeId: string;
  context: string;
  state: StatusState;
  targetUrl: string | null;
  description: string | null;
  createdAt: number;
}

export type FakeContext = FakeCheckRun | FakeStatus;

/** Branch protection of one branch, as far as the fake models it. */
export interface FakeProtection {
  /** Check run names / status contexts that must pass (`isRequired`, `BLOCKED`). */
  requiredContexts: string[];
  /** "Require branches to be up to date before merging": makes `mergeStateStatus` `BEHIND`. */
  strict: boolean;
  /**
   * "Require a pull request before merging" with one approving review: PRs into the branch
   * without an approval are `BLOCKED` (`requireReviews()`).
   */
  requireReviews?: boolean;
}

export interface FakeRepo {
  id: number;
  nodeId: string;
  owner: string;
  name: string;
  fullName: string;
  /** Path of the bare git repository (also its git URL). */
  bare: string;
  defaultBranch: string;
  items: Map<number, FakeItem>;
  nextNumber: number;
  protection: Map<string, FakeProtection>;
  /** Check runs and statuses per commit sha, in the order they were added. */
  contexts: Map<string, FakeContext[]>;
}

/** Node id in GitHub's current form (`PR_kwDO…`-like): a type prefix and an opaque part. */
export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kw${Buffer.from(`fake:${id}`).toString("base64url")}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
