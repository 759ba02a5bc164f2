import {
  insertComment,
  insertIssue,
  insertPullRequest,
  selectComments,
  selectIssue,
  selectIssues,
  selectPullRequests,
  updateIssueState,
  updatePullRequest,
} from "../../store/forge-items.ts";
import { git, gitMaybe } from "../../util/git.ts";
import {
  type Comment,
  ForgeError,
  type Issue,
  NIGHTSHIFT_AUTHOR,
  type NewIssue,
  type NewPullRequest,
  type PullRequest,
  type PullRequestPatch,
} from "../types.ts";
import { settleMerged } from "./merge-status.ts";
import { toComment, toIssue, toPullRequest } from "./rows.ts";
import { barePath, branchTips, type LocalForgeState, pullRequestRow } from "./state.ts";

/** The author of the local forge's pull requests. */
export const LOCAL_BOT = NIGHTSHIFT_AUTHOR;

/** Opens an issue. */
export async function createIssue(s: LocalForgeState, repo: string, issue: NewIssue): Promise<Issue> {
  const now = s.clock.now();
  const row = await insertIssue(s.db, {
    repo,
    title: issue.title,
    body: issue.body,
    author: issue.author,
    labels: JSON.stringify(issue.labels ?? []),
    state: "open",
    created_at: now,
    updated_at: now,
  });
  return toIssue(row);
}

/** @throws {ForgeError} when there is no such issue. */
export async function getIssue(s: LocalForgeState, repo: string, number: number): Promise<Issue> {
  const row = await selectIssue(s.db, repo, number);
  if (!row)
    throw new ForgeError(`local forge: ${repo} has no issue #${number} (see \`nightshift issue list\`)`);
  return toIssue(row);
}

/** Issues in `state` (default open). */
export async function listIssues(
  s: LocalForgeState,
  repo: string,
  opts: { state?: "open" | "closed" | "all" } = {},
): Promise<Issue[]> {
  return (await selectIssues(s.db, repo, opts.state ?? "open")).map(toIssue);
}

/**
 * Closes or reopens an issue.
 * @throws {ForgeError} when there is no such issue.
 */
export async function setIssueState(
  s: LocalForgeState,
  repo: string,
  number: number,
  state: "open" | "closed",
): Promise<void> {
  if (!(await updateIssueState(s.db, repo, number, state, s.clock.now())))
    throw new ForgeError(`local forge: ${repo} has no issue #${number} (see \`nightshift issue list\`)`);
}

/**
 * Opens a pull request from `head` into `base`; both branches must exist on the forge.
 * @throws {ForgeError} when a branch is missing.
 */
export async function createPullRequest(
  s: LocalForgeState,
  repo: string,
  pr: NewPullRequest & { labels?: string[] },
): Promise<PullRequest> {
  const bare = barePath(s, repo);
  for (const ref of [pr.head, pr.base]) {
    if (!(await gitMaybe(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${ref}`]))) {
      throw new ForgeError(
        `local forge: cannot open a pull request on ${repo}: branch "${ref}" does not exist`,
      );
    }
  }
  const now = s.clock.now();
  const row = await insertPullRequest(s.db, {
    repo,
    title: pr.title,
    body: pr.body,
    author: LOCAL_BOT,
    head: pr.head,
    base: pr.base,
    draft: pr.draft ? 1 : 0,
    state: "open",
    session_id: pr.sessionId,
    labels: JSON.stringify(pr.labels ?? []),
    created_at: now,
    updated_at: now,
  });
  return toPullRequest(row, await branchTips(s, repo));
}

/** @throws {ForgeError} when there is no such pull request. */
export async function getPullRequest(s: LocalForgeState, repo: string, number: number): Promise<PullRequest> {
  await settleMerged(s, repo);
  return toPullRequest(await pullRequestRow(s, repo, number), await branchTips(s, repo));
}

/** Pull requests in `state` (default open), merges made by hand settled first. */
export async function listPullRequests(
  s: LocalForgeState,
  repo: string,
  opts: { state?: "open" | "closed" | "merged" | "all" } = {},
): Promise<PullRequest[]> {
  await settleMerged(s, repo);
  const rows = await selectPullRequests(s.db, repo, opts.state ?? "open");
  if (rows.length === 0) return [];
  const tips = await branchTips(s, repo);
  return rows.map((r) => toPullRequest(r, tips));
}

/**
 * Replaces the labels of a pull request.
 * @throws {ForgeError} when there is no such pull request.
 */
export async function setPullRequestLabels(
  s: LocalForgeState,
  repo: string,
  number: number,
  labels: string[],
): Promise<void> {
  await pullRequestRow(s, repo, number);
  await updatePullRequest(s.db, repo, number, {
    labels: JSON.stringify([...new Set(labels)]),
    updated_at: s.clock.now(),
  });
}

/** `git diff base...head` of a pull request in the bare repository. */
export async function pullRequestDiff(s: LocalForgeState, repo: string, number: number): Promise<string> {
  const pr = await getPullRequest(s, repo, number);
  return git(barePath(s, repo), ["diff", `refs/heads/${pr.base}...refs/heads/${pr.head}`]);
}

/** Adds a conversation comment to an issue or pull request. */
export async function addComment(
  s: LocalForgeState,
  repo: string,
  number: number,
  comment: { author: string; body: string },
): Promise<Comment> {
  const row = await insertComment(s.db, {
    repo,
    number,
    author: comment.author,
    body: comment.body,
    thread_id: null,
    created_at: s.clock.now(),
  });
  return toComment(row);
}

/** Conversation comments of an issue or pull request. */
export async function listComments(s: LocalForgeState, repo: string, number: number): Promise<Comment[]> {
  return (await selectComments(s.db, repo, number)).map(toComment);
}

/**
 * Marks an open pull request draft or ready for review.
 * @throws {ForgeError} when there is no such PR or it is not open (GitHub refuses too).
 */
export async function setDraft(
  s: LocalForgeState,
  repo: string,
  number: number,
  draft: boolean,
): Promise<void> {
  await settleMerged(s, repo);
  const row = await pullRequestRow(s, repo, number);
  if (row.state !== "open")
    throw new ForgeError(
      `local forge: pull request #${number} of ${repo} is ${row.state}; only open pull requests can be marked ${draft ? "draft" : "ready"}`,
    );
  if ((row.draft === 1) === draft) return;
  await updatePullRequest(s.db, repo, number, { draft: draft ? 1 : 0, updated_at: s.clock.now() });
}

/**
 * Closes a pull request without merging; closing a closed one does nothing.
 * @throws {ForgeError} when there is no such PR or it was merged.
 */
export async function closePullRequest(s: LocalForgeState, repo: string, number: number): Promise<void> {
  await settleMerged(s, repo);
  const row = await pullRequestRow(s, repo, number);
  if (row.state === "closed") return;
  if (row.state === "merged")
    throw new ForgeError(`local forge: pull request #${number} of ${repo} is merged and cannot be closed`);
  await updatePullRequest(s.db, repo, number, { state: "closed", updated_at: s.clock.now() });
}

/**
 * Replaces a pull request's title and/or body; a field left out stays. Any state (open,
 * closed, merged), as on GitHub. The session id it was opened with is kept.
 * @returns the pull request after the change.
 * @throws {ForgeError} when there is no such pull request, `title` is blank, or neither field is given.
 */
export async function updatePullRequestText(
  s: LocalForgeState,
  repo: string,
  number: number,
  patch: PullRequestPatch,
): Promise<PullRequest> {
  const where = `pull request #${number} of ${repo}`;
  if (patch.title === undefined && patch.body === undefined)
    throw new ForgeError(`local forge: nothing to change on ${where}: give a title, a body or both`);
  if (patch.title !== undefined && typeof patch.title !== "string")
    throw new ForgeError(`local forge: the new title of ${where} must be a string`);
  if (patch.body !== undefined && typeof patch.body !== "string")
    throw new ForgeError(`local forge: the new body of ${where} must be a string`);
  if (patch.title !== undefined && !patch.title.trim())
    throw new ForgeError(`local forge: the new title of ${where} is blank; give a title with text`);
  await pullRequestRow(s, repo, number);
  // store/forge-items.ts's updatePullRequest does not take title/body: the same update here.
  await s.db
    .updateTable("forge_pull_requests")
    .set({
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.body !== undefined ? { body: patch.body } : {}),
      updated_at: s.clock.now(),
    })
    .where("repo", "=", repo)
    .where("number", "=", number)
    .execute();
  return getPullRequest(s, repo, number);
}
