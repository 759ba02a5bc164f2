/** An issue on a forge. Times are ms since the epoch. */
export interface Issue {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  labels: string[];
  state: "open" | "closed";
  createdAt: number;
}

/** A pull request on a forge. `head` and `base` are branch names. */
export interface PullRequest {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  head: string;
  base: string;
  draft: boolean;
  state: "open" | "closed" | "merged";
  sessionId: string | null;
  /** Commit at the tip of `head`, when the forge knows it. */
  headSha?: string;
  labels?: string[];
  createdAt: number;
  updatedAt: number;
}

/**
 * One check on a pull request's head commit. GitHub's `statusCheckRollup` folds check runs
 * and commit statuses into this one shape: a commit status `pending` is `in_progress`, its
 * `success|failure|error` are completed conclusions.
 */
export interface CheckResult {
  name: string;
  status: "queued" | "in_progress" | "completed";
  /**
   * Set once completed: GitHub's `CheckConclusionState` lower-cased (`success`, `failure`,
   * `neutral`, `cancelled`, `skipped`, `timed_out`, `action_required`, `stale`,
   * `startup_failure`) or a commit status's `error`.
   */
  conclusion: string | null;
  /** Whether branch protection requires this check to pass (GraphQL `isRequired`). */
  required: boolean;
  /** Where to read more (GitHub `detailsUrl`/`targetUrl`). */
  url?: string;
  /** The check's output for a prompt: a check run's title/summary/text, the local CI's log tail. */
  output?: string;
}

/**
 * What the guard and the judge need to know about one open pull request, read in batches
 * (one GraphQL request per page of PRs on GitHub).
 */
export interface PullRequestStatus {
  repo: string;
  number: number;
  title: string;
  author: string;
  head: string;
  base: string;
  headSha: string;
  draft: boolean;
  /** `true` mergeable, `false` conflicting, `null` while the forge is still computing it (GitHub `UNKNOWN`). */
  mergeable: boolean | null;
  /**
   * GitHub's `mergeStateStatus` lower-cased: `behind`, `blocked`, `clean`, `dirty`, `draft`,
   * `has_hooks`, `unknown`, `unstable`. The local forge reports `draft`, `dirty`, `behind`,
   * `unstable` (a check failed), `blocked` (a required check pending), `unknown` or `clean`.
   */
  mergeState: string;
  /**
   * Commits on the base branch that the head lacks; `null` when not known. On GitHub this
   * comes from a (batched) compare when `mergeStateStatus` does not say `BEHIND`, since
   * GitHub reports `BEHIND` only when branch protection requires up-to-date branches.
   */
  behindBy: number | null;
  checks: CheckResult[];
  /** Diff size, for the `smallest` strategy. */
  additions: number;
  deletions: number;
  changedFiles: number;
  labels: string[];
  createdAt: number;
  updatedAt: number;
}

/** A review thread on a pull request (a line comment and its replies). */
export interface ReviewThread {
  id: string;
  resolved: boolean;
  path: string | null;
  line: number | null;
  comments: Comment[];
}

/** What `updateBranch` did. */
export type UpdateBranchResult =
  /** `headSha`: the new head, when known (GitHub merges in the background after answering 202). */
  | { updated: true; headSha?: string }
  /** `conflict`: base does not merge cleanly; `head_moved`: the head is no longer `expectedHeadSha`. */
  | { updated: false; reason: "conflict" | "head_moved" | "up_to_date"; detail: string };

/** A comment on an issue or pull request. */
export interface Comment {
  id: string;
  repo: string;
  number: number;
  author: string;
  body: string;
  createdAt: number;
}

/** Where a repository lives on the forge: the git URL the runner fetches from and pushes to. */
export interface ForgeRepo {
  name: string;
  remoteUrl: string;
  defaultBranch: string;
  /** Tip of the default branch, when the forge knows it without a round trip. */
  defaultBranchSha?: string;
}

/** Fields of a new issue. */
export interface NewIssue {
  title: string;
  body: string;
  author: string;
  labels?: string[];
}

/** Fields of a new pull request. */
export interface NewPullRequest {
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  sessionId: string | null;
}

/** What {@link Forge.updatePullRequest} changes: a non-blank `title`, a `body` (may be empty). */
export interface PullRequestPatch {
  title?: string;
  body?: string;
}

/**
 * The forge interface: everything nightshift asks of a code host. Two adapters implement it:
 * `local` (bare repositories on disk, the rest in the store; the embedded default) and
 * later `github`. Methods throw {@link ForgeError} for missing items and refused actions.
 */
export interface Forge {
  readonly kind: "local" | "github";
  /** Requests made so far (GitHub: HTTP requests; local: 0). For reports and benchmarks. */
  readonly requestCount?: number;
  /**
   * The embedded forge's local-only operations (closing issues, labels, recording checks,
   * running the project's CI, review comments, bare repository paths); absent on every other
   * forge. Test this instead of the forge's class:
   * `const local = forge.local; if (local) await local.recordCheck(…)`.
   */
  readonly local?: LocalForgeAdmin;
  /** Makes `name` ready on the forge and tells where to fetch and push. */
  repo(name: string): Promise<ForgeRepo>;
  createIssue(repo: string, issue: NewIssue): Promise<Issue>;
  getIssue(repo: string, number: number): Promise<Issue>;
  listIssues(repo: string, opts?: { state?: "open" | "closed" | "all" }): Promise<Issue[]>;
  createPullRequest(repo: string, pr: NewPullRequest): Promise<PullRequest>;
  getPullRequest(repo: string, number: number): Promise<PullRequest>;
  listPullRequests(
    repo: string,
    opts?: { state?: "open" | "closed" | "merged" | "all" },
  ): Promise<PullRequest[]>;
  /** The unified diff of a pull request (base...head), as `git diff` prints it. */
  pullRequestDiff(repo: string, number: number): Promise<string>;
  addComment(repo: string, number: number, comment: { author: string; body: string }): Promise<Comment>;
  listComments(repo: string, number: number): Promise<Comment[]>;
  /**
   * Open pull requests with their mergeability, merge state, checks and diff size, every
   * page read. `numbers` limits the result to those PRs (still batched).
   */
  listPullRequestStatuses(repo: string, opts?: { numbers?: number[] }): Promise<PullRequestStatus[]>;
  /** Review threads of a pull request (GitHub `reviewThreads`), every page read. */
  listReviewThreads(repo: string, number: number): Promise<ReviewThread[]>;
  /**
   * Marks a pull request draft (`true`) or ready for review (`false`). On GitHub these are the
   * GraphQL mutations `convertPullRequestToDraft` / `markPullRequestReadyForReview`.
   */
  setDraft(repo: string, number: number, draft: boolean): Promise<void>;
  /**
   * Merges the base branch into the head (GitHub `PUT /repos/{o}/{r}/pulls/{n}/update-branch`
   * with `expected_head_sha`): never a rebase, never a force-push.
   */
  updateBranch(repo: string, number: number, expectedHeadSha: string): Promise<UpdateBranchResult>;
  /** Closes a pull request without merging it. */
  closePullRequest(repo: string, number: number): Promise<void>;
  /**
   * Replaces a pull request's title and/or body (GitHub `PATCH /repos/{o}/{r}/pulls/{n}`);
   * a field left out stays as it is. Works on open, closed and merged pull requests, as on
   * GitHub. The session id recorded when the PR was opened ({@link PullRequest.sessionId})
   * is kept. A follow-up session uses it to rewrite its PR's body as the whole conversation.
   *
   * @returns the pull request after the change.
   * @throws {ForgeError} when there is no such pull request, `title` is blank, or neither
   *   field is given.
   */
  updatePullRequest(repo: string, number: number, patch: PullRequestPatch): Promise<PullRequest>;
  /**
   * Runs `fn` with the forge's writes coalesced into few requests, and resolves with its result
   * once every write made inside it is done. `setDraft`, `addComment` and `updateBranch`
   * calls made inside `fn` at the same time (a `Promise.all` over many PRs) share requests;
   * each still resolves or rejects on its own, with what it would give outside a batch, and a
   * call awaited before the next is made works as usual (it just does not share). Batched
   * writes are applied in the order they were made. GitHub: aliased GraphQL mutations, up to 25 per
   * request. Absent where writes cost no request (the local forge): call `fn` directly.
   */
  batch?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs the checks the forge owes: the local forge runs its `ci` command for open PR heads
   * that have no result yet. GitHub runs its own checks, so its adapter has none.
   */
  runPendingChecks?(repo: string): Promise<unknown>;
  /**
   * Environment variables that let git fetch from and push to this forge (GitHub: an
   * `http.extraHeader` with the token, as git environment config). Used by the runner only,
   * outside the sandbox; never given to an agent.
   */
  gitEnv?(): Promise<Record<string, string>>;
}

/** A line comment to add to a pull request's review: a new thread, or a reply when `threadId` is set. */
export interface NewReviewComment {
  author: string;
  body: string;
  /** File path in the diff; required for a new thread. */
  path?: string;
  /** Line in the file at the head commit; required for a new thread (1-based). */
  line?: number;
  /** Reply to this thread instead of starting one. */
  threadId?: string;
}

/**
 * What `LocalForgeAdmin.mergePullRequest` did: the merge commit on the base (`sha`, whose
 * parents are `baseBefore` and `headSha`), or why it refused, with a sentence saying so.
 */
export type LocalMergeResult =
  | { merged: true; sha: string; base: string; baseBefore: string; headSha: string }
  | {
      merged: false;
      reason:
        "draft" | "not_open" | "head_moved" | "checks_failed" | "checks_pending" | "conflict" | "base_moved";
      detail: string;
    };

/** The local forge merges at once, so an update always knows the new head. */
export type LocalUpdateBranchResult =
  { updated: true; headSha: string } | Extract<UpdateBranchResult, { updated: false }>;

/**
 * What only the embedded local forge offers besides the {@link Forge} interface: the
 * operations a hosted forge does through its own UI or CI (closing issues, labels, recording
 * checks, running the project's CI, review comments) and where its bare repositories are.
 * Reach it as `forge.local` (see {@link Forge.local}): present on the local forge, absent on
 * GitHub, so callers test `forge.local` instead of `instanceof LocalForge`.
 *
 * @example
 * const local = project.forge.local;
 * if (local) await local.recordCheck(repo, sha, check);
 */
export interface LocalForgeAdmin {
  /** The CI command this forge runs on pull requests (`forge.ci`), if the project set one. */
  readonly ci: string | undefined;
  /** Path of the bare repository that holds `name`. */
  barePath(name: string): string;
  /**
   * Closes or reopens an issue.
   * @throws {ForgeError} when there is no such issue.
   */
  setIssueState(repo: string, number: number, state: "open" | "closed"): Promise<void>;
  /** Opens a pull request with `labels` in the same step (GitHub adds labels in a second call). */
  createPullRequest(repo: string, pr: NewPullRequest & { labels?: string[] }): Promise<PullRequest>;
  /**
   * Replaces the labels of a pull request.
   * @throws {ForgeError} when there is no such pull request.
   */
  setPullRequestLabels(repo: string, number: number, labels: string[]): Promise<void>;
  /**
   * Records a check on commit `sha`, replacing an earlier result with the same name.
   * @throws {ForgeError} when `sha` is not a full commit id or a completed check has no conclusion.
   */
  recordCheck(repo: string, sha: string, check: CheckResult): Promise<void>;
  /** Checks recorded on commit `sha`, by name. */
  listChecks(repo: string, sha: string): Promise<CheckResult[]>;
  /**
   * Runs the project's CI command on pull request `number`'s head commit now.
   * @returns the completed check.
   * @throws {ForgeError} when no CI command is configured, the PR does not exist or its head branch is gone.
   */
  runChecks(repo: string, number: number): Promise<CheckResult>;
  /**
   * Adds a line comment to a pull request's review (a new thread, or a reply).
   * @returns the thread with the new comment.
   */
  addReviewComment(repo: string, number: number, c: NewReviewComment): Promise<ReviewThread>;
  /** Marks a review thread resolved, or unresolved again with `resolved: false`. */
  resolveReviewThread(repo: string, threadId: string, resolved?: boolean): Promise<void>;
  /** `Forge.updateBranch`, which on the local forge always knows the new head. */
  updateBranch(repo: string, number: number, expectedHeadSha: string): Promise<LocalUpdateBranchResult>;
  /**
   * Merges an open, ready pull request into its base with a merge commit (`git merge --no-ff`
   * done in the bare repository, the base updated by compare-and-swap so a concurrent push is
   * never lost) and marks it merged. Refuses — `merged: false` with a reason — a draft, a closed
   * or merged PR, failing or pending checks (with `forge.ci` set, a head without a `ci` result
   * is pending), a conflict, or a head other than `opts.expectedHeadSha`.
   * @throws {ForgeError} when there is no such pull request or one of its branches is gone.
   */
  mergePullRequest(
    repo: string,
    number: number,
    opts?: { expectedHeadSha?: string },
  ): Promise<LocalMergeResult>;
}

/**
 * The author nightshift writes comments as where the forge lets it choose (the local forge).
 * On GitHub comments carry the token's own login, whatever is passed.
 */
export const NIGHTSHIFT_AUTHOR = "nightshift[bot]";

/** A forge request that cannot be met: an unknown issue, PR or repository. */
export class ForgeError extends Error {
  override name = "ForgeError";
}
