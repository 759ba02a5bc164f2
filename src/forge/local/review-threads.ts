import {
  insertComment,
  insertReviewThread,
  selectReviewComments,
  selectReviewThread,
  selectReviewThreads,
  updateReviewThread,
} from "../../store/forge-items.ts";
import { ForgeError, type NewReviewComment, type ReviewThread } from "../types.ts";
import { toComment } from "./rows.ts";
import { type LocalForgeState, pullRequestRow } from "./state.ts";

export type { NewReviewComment } from "../types.ts";

/**
 * Review threads of a pull request with their comments, oldest first.
 * @throws {ForgeError} when there is no such pull request.
 */
export async function listReviewThreads(
  s: LocalForgeState,
  repo: string,
  number: number,
): Promise<ReviewThread[]> {
  await pullRequestRow(s, repo, number);
  const threads = await selectReviewThreads(s.db, repo, number);
  const comments = await selectReviewComments(s.db, repo, number);
  return threads.map((t) => ({
    id: t.id,
    resolved: t.resolved === 1,
    path: t.path,
    line: t.line,
    comments: comments.filter((c) => c.thread_id === t.id).map(toComment),
  }));
}

/**
 * Adds a line comment to a pull request's review: a new thread at `path`:`line`, or a reply
 * in `threadId`'s thread.
 *
 * @returns the thread with the new comment.
 * @throws {ForgeError} when the PR or thread does not exist, or a new thread lacks a path or a positive line.
 */
export async function addReviewComment(
  s: LocalForgeState,
  repo: string,
  number: number,
  c: NewReviewComment,
): Promise<ReviewThread> {
  await pullRequestRow(s, repo, number);
  const now = s.clock.now();
  let threadId = c.threadId;
  if (threadId) {
    const t = await selectReviewThread(s.db, repo, threadId);
    if (!t || t.number !== number)
      throw new ForgeError(
        `local forge: pull request #${number} of ${repo} has no review thread ${threadId}`,
      );
  } else {
    if (!c.path || c.line === undefined || !Number.isInteger(c.line) || c.line <= 0)
      throw new ForgeError(
        `local forge: a review comment on #${number} needs a file path and a line number ≥ 1 (or a thread to reply to)`,
      );
    threadId = (
      await insertReviewThread(s.db, {
        repo,
        number,
        path: c.path,
        line: c.line,
        resolved: 0,
        created_at: now,
        resolved_at: null,
      })
    ).id;
  }
  await insertComment(s.db, {
    repo,
    number,
    author: c.author,
    body: c.body,
    thread_id: threadId,
    created_at: now,
  });
  const thread = (await listReviewThreads(s, repo, number)).find((t) => t.id === threadId);
  return thread!;
}

/**
 * Marks a review thread resolved (GitHub `resolveReviewThread`), or unresolved again with
 * `resolved: false`.
 * @throws {ForgeError} when there is no such thread.
 */
export async function resolveReviewThread(
  s: LocalForgeState,
  repo: string,
  threadId: string,
  resolved = true,
): Promise<void> {
  if (!(await updateReviewThread(s.db, repo, threadId, resolved, s.clock.now())))
    throw new ForgeError(`local forge: ${repo} has no review thread ${threadId}`);
}
