import type {
  CheckResult,
  Comment,
  Forge,
  ForgeRepo,
  Issue,
  LocalForgeAdmin,
  LocalMergeResult,
  LocalUpdateBranchResult,
  NewIssue,
  NewPullRequest,
  NewReviewComment,
  PullRequest,
  PullRequestPatch,
  PullRequestStatus,
  ReviewThread,
} from "../types.ts";
import * as ci from "./ci.ts";
import * as items from "./items.ts";
import { mergePullRequest } from "./merge.ts";
import * as mergeStatus from "./merge-status.ts";
import { publishRepo } from "./publish.ts";
import * as reviews from "./review-threads.ts";
import { barePath, type LocalForgeOptions, type LocalForgeState, localForgeState } from "./state.ts";
import { updateBranch } from "./update-branch.ts";

export type {
  LocalForgeAdmin,
  LocalMergeResult,
  LocalUpdateBranchResult,
  NewReviewComment,
} from "../types.ts";
export { CI_CHECK } from "./ci-command.ts";
export { LOCAL_BOT } from "./items.ts";
export type { LocalForgeOptions, LocalForgeState, LocalSource } from "./state.ts";

/**
 * The embedded forge: one bare repository per project repository under `dir` plays the role
 * of the remote, and issues, pull requests and comments live in the store. `repo()` publishes
 * the source's base branch into the bare repository, so sessions start from the user's latest
 * commit, as they would from `origin` on a hosted forge.
 *
 * A facade: each job is a module of functions over one shared {@link LocalForgeState} —
 * `publish.ts` (repositories), `items.ts` (issues, pull requests, comments),
 * `merge-status.ts` (merges made by hand, statuses), `ci.ts` (checks and the local CI),
 * `review-threads.ts`, `update-branch.ts` and `merge.ts`. Its local-only operations are its
 * {@link LocalForgeAdmin} face, reachable as {@link LocalForge.local}.
 */
export class LocalForge implements Forge, LocalForgeAdmin {
  readonly kind = "local" as const;
  readonly #s: LocalForgeState;

  constructor(opts: LocalForgeOptions) {
    this.#s = localForgeState(opts);
  }

  /** This forge's local-only operations (itself): see {@link Forge.local}. */
  get local(): LocalForgeAdmin {
    return this;
  }

  /** The CI command this forge runs on pull requests, if the project set one. */
  get ci(): string | undefined {
    return this.#s.ci;
  }

  /** Path of the bare repository that holds `name`. */
  barePath(name: string): string {
    return barePath(this.#s, name);
  }

  /**
   * Creates the bare repository if needed and publishes the source's base branch into it.
   * @throws {ForgeError} when the repository is not one of the project's, or has no commit.
   */
  repo(name: string): Promise<ForgeRepo> {
    return publishRepo(this.#s, name);
  }

  createIssue(repo: string, issue: NewIssue): Promise<Issue> {
    return items.createIssue(this.#s, repo, issue);
  }

  getIssue(repo: string, number: number): Promise<Issue> {
    return items.getIssue(this.#s, repo, number);
  }

  listIssues(repo: string, opts: { state?: "open" | "closed" | "all" } = {}): Promise<Issue[]> {
    return items.listIssues(this.#s, repo, opts);
  }

  /**
   * Closes or reopens an issue.
   * @throws {ForgeError} when there is no such issue.
   */
  setIssueState(repo: string, number: number, state: "open" | "closed"): Promise<void> {
    return items.setIssueState(this.#s, repo, number, state);
  }

  /**
   * Opens a pull request from `head` into `base`; both branches must exist on the forge.
   * `labels` is a local-forge extra (GitHub adds labels in a second call).
   * @throws {ForgeError} when a branch is missing.
   */
  createPullRequest(repo: string, pr: NewPullRequest & { labels?: string[] }): Promise<PullRequest> {
    return items.createPullRequest(this.#s, repo, pr);
  }

  getPullRequest(repo: string, number: number): Promise<PullRequest> {
    return items.getPullRequest(this.#s, repo, number);
  }

  listPullRequests(
    repo: string,
    opts: { state?: "open" | "closed" | "merged" | "all" } = {},
  ): Promise<PullRequest[]> {
    return items.listPullRequests(this.#s, repo, opts);
  }

  /**
   * Replaces the labels of a pull request.
   * @throws {ForgeError} when there is no such pull request.
   */
  setPullRequestLabels(repo: string, number: number, labels: string[]): Promise<void> {
    return items.setPullRequestLabels(this.#s, repo, number, labels);
  }

  pullRequestDiff(repo: string, number: number): Promise<string> {
    return items.pullRequestDiff(this.#s, repo, number);
  }

  addComment(repo: string, number: number, comment: { author: string; body: string }): Promise<Comment> {
    return items.addComment(this.#s, repo, number, comment);
  }

  listComments(repo: string, number: number): Promise<Comment[]> {
    return items.listComments(this.#s, repo, number);
  }

  /** See `listPullRequestStatuses` in merge-status.ts for how each field is computed. */
  listPullRequestStatuses(repo: string, opts: { numbers?: number[] } = {}): Promise<PullRequestStatus[]> {
    return mergeStatus.listPullRequestStatuses(this.#s, repo, opts);
  }

  /**
   * Records a check on commit `sha` (GitHub's check run), replacing an earlier result with the
   * same name. See `recordCheck` in ci.ts.
   * @throws {ForgeError} when `sha` is not a full commit id or a completed check has no conclusion.
   */
  recordCheck(repo: string, sha: string, check: CheckResult): Promise<void> {
    return ci.recordCheck(this.#s, repo, sha, check);
  }

  /** Checks recorded on commit `sha`, by name. */
  listChecks(repo: string, sha: string): Promise<CheckResult[]> {
    return ci.listChecks(this.#s, repo, sha);
  }

  /**
   * Runs the project's CI command (`forge.ci`) on pull request `number`'s head commit. See
   * `runChecks` in ci.ts.
   * @returns the completed check.
   * @throws {ForgeError} when no CI command is configured, the PR does not exist or its head branch is gone.
   */
  runChecks(repo: string, number: number): Promise<CheckResult> {
    return ci.runChecks(this.#s, repo, number);
  }

  /**
   * Runs the CI command on every open pull request whose head commit has no `ci` result yet
   * (or a stale `in_progress` one). Does nothing without `forge.ci`.
   * @returns what ran, by pull request number.
   */
  runPendingChecks(repo: string): Promise<{ number: number; headSha: string; check: CheckResult }[]> {
    return ci.runPendingChecks(this.#s, repo);
  }

  /**
   * Review threads of a pull request with their comments, oldest first.
   * @throws {ForgeError} when there is no such pull request.
   */
  listReviewThreads(repo: string, number: number): Promise<ReviewThread[]> {
    return reviews.listReviewThreads(this.#s, repo, number);
  }

  /**
   * Adds a line comment to a pull request's review: a new thread at `path`:`line`, or a reply
   * in `threadId`'s thread.
   * @returns the thread with the new comment.
   * @throws {ForgeError} when the PR or thread does not exist, or a new thread lacks a path or a positive line.
   */
  addReviewComment(repo: string, number: number, c: NewReviewComment): Promise<ReviewThread> {
    return reviews.addReviewComment(this.#s, repo, number, c);
  }

  /**
   * Marks a review thread resolved, or unresolved again with `resolved: false`.
   * @throws {ForgeError} when there is no such thread.
   */
  resolveReviewThread(repo: string, threadId: string, resolved = true): Promise<void> {
    return reviews.resolveReviewThread(this.#s, repo, threadId, resolved);
  }

  /**
   * Marks an open pull request draft or ready for review.
   * @throws {ForgeError} when there is no such PR or it is not open (GitHub refuses too).
   */
  setDraft(repo: string, number: number, draft: boolean): Promise<void> {
    return items.setDraft(this.#s, repo, number, draft);
  }

  /**
   * Closes a pull request without merging; closing a closed one does nothing.
   * @throws {ForgeError} when there is no such PR or it was merged.
   */
  closePullRequest(repo: string, number: number): Promise<void> {
    return items.closePullRequest(this.#s, repo, number);
  }

  /**
   * Replaces a pull request's title and/or body; a field left out stays. See
   * `updatePullRequestText` in items.ts.
   * @returns the pull request after the change.
   * @throws {ForgeError} when there is no such PR, `title` is blank, or neither field is given.
   */
  updatePullRequest(repo: string, number: number, patch: PullRequestPatch): Promise<PullRequest> {
    return items.updatePullRequestText(this.#s, repo, number, patch);
  }

  /**
   * Brings a pull request's head up to date with its base by a merge commit (never a rebase,
   * never a force). See `updateBranch` in update-branch.ts.
   * @throws {ForgeError} when there is no such PR, it is not open, or a branch is gone.
   */
  updateBranch(repo: string, number: number, expectedHeadSha: string): Promise<LocalUpdateBranchResult> {
    return updateBranch(this.#s, repo, number, expectedHeadSha);
  }

  /**
   * Merges a pull request into its base with a merge commit and marks it merged, or says why
   * not. See `mergePullRequest` in merge.ts.
   * @throws {ForgeError} when there is no such PR or one of its branches is gone.
   */
  mergePullRequest(
    repo: string,
    number: number,
    opts: { expectedHeadSha?: string } = {},
  ): Promise<LocalMergeResult> {
    return mergePullRequest(this.#s, repo, number, opts);
  }
}
