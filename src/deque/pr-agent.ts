import type { Routine } from "../config/routine-schema.ts";
import type { Workflow } from "../config/deque-schema.ts";
import type {
  CheckResult,
  Comment,
  Issue,
  PullRequest,
  PullRequestStatus,
  ReviewThread,
} from "../forge/types.ts";
import type { Project } from "../project.ts";
import { runSession } from "../runner/session.ts";
import type { SessionRow } from "../store/schema.ts";
import type { DequeRunOptions, DequeRunResult, Skip } from "./run-result.ts";
import { commentsSection, failingChecksSection, mergeSection, reviewSection } from "./context.ts";
import { withClaim } from "./claims.ts";
import { pickItems } from "./pick.ts";
import { lastJudgedHead, runJudge } from "./judge/judge.ts";
import { failingChecks } from "./judge/rules.ts";
import { issueOfPullRequest, readLedger } from "./ledger.ts";
import { AuthorAllowlist, filterByAuthor, type FilteredRecord } from "./select/index.ts";

/**
 * The PR agent: for each selected nightshift draft PR,
 * 1. gather the evidence: failing checks (with their output where the forge gives it),
 *    unresolved review threads and PR comments from allowlisted authors (and nightshift's own
 *    guard and judge notes), conflicts with the base;
 * 2. one session on the PR's own branch: the agent fixes what the evidence shows; the runner
 *    pushes the new commits to the same branch, fast-forward only;
 * 3. the judge (src/deque/judge/judge.ts) decides promote, keep or close.
 * Only PRs whose head branch is under the routine's `branch_prefix` are candidates: a PR
 * agent never pushes to a human's branch.
 */
export async function runPrAgent(
  project: Project,
  routine: Routine,
  workflow: Workflow,
  opts: DequeRunOptions = {},
): Promise<DequeRunResult> {
  const repo = project.repoName;
  const forge = project.forge;
  const skipped: Skip[] = [];
  const ledger = await readLedger(forge, repo, routine.branch_prefix, { closed: false });
  const allowlist = new AuthorAllowlist(project.config.deque.allowed_authors);
  await forge.runPendingChecks?.(repo);
  const statuses = new Map(
    (await forge.listPullRequestStatuses(repo, { numbers: ledger.drafts.map((p) => p.number) })).map((s) => [
      s.number,
      s,
    ]),
  );
  // A nightshift PR's own author is nightshift's forge identity: its notes are trusted.
  const candidates: (PullRequest & { additions?: number; deletions?: number })[] = ledger.drafts.map((pr) => {
    const s = statuses.get(pr.number);
    return s ? { ...pr, additions: s.additions, deletions: s.deletions } : pr;
  });
  const picked = await pickItems(project, repo, workflow, candidates, {
    limit: workflow.select.limit,
    skipped,
    opts,
  });

  const sessions: SessionRow[] = [];
  const filteredAll: FilteredRecord[] = [];
  const judgements: NonNullable<DequeRunResult["judgements"]> = [];
  for (const pr of picked.selected) {
    if (opts.signal?.aborted) break;
    const status = statuses.get(pr.number);
    if (!status) {
      skipped.push({ number: pr.number, reason: "the forge reported no status for it" });
      continue;
    }
    const trusted = new AuthorAllowlist([...allowlist.logins, pr.author]);
    const comments = filterByAuthor(await forge.listComments(repo, pr.number), trusted, "comment");
    const threads = await forge.listReviewThreads(repo, pr.number);
    const filtered: FilteredRecord[] = [...comments.filtered];
    const keptThreads = threads.map((t) => {
      const f = filterByAuthor(
        t.comments.map((c) => ({ ...c, number: pr.number })),
        trusted,
        "review_comment",
      );
      filtered.push(...f.filtered);
      return { ...t, comments: f.kept };
    });
    filteredAll.push(...filtered);
    const issueNumber = issueOfPullRequest(routine.branch_prefix, pr);
    const issue =
      issueNumber !== undefined ? await allowedIssue(project, repo, issueNumber, allowlist) : undefined;
    const failing = failingChecks(status.checks);
    const pending = status.checks.filter((c) => c.status !== "completed");
    if (pending.length) {
      skipped.push({
        number: pr.number,
        reason: `checks still running (${pending.map((c) => c.name).join(", ")}); the next run takes it`,
      });
      continue;
    }
    if (status.mergeable === null) {
      skipped.push({ number: pr.number, reason: "the forge is still computing mergeability" });
      continue;
    }
    const openThreads = keptThreads.filter((t) => !t.resolved && t.comments.length > 0);
    const lastNote = Math.max(
      0,
      ...comments.kept.filter((c) => c.author === pr.author).map((c) => c.createdAt),
    );
    const newRequests = comments.kept.filter((c) => c.author !== pr.author && c.createdAt > lastNote);
    // Nothing to fix: no agent session, straight to the judge — unless it already judged this head.
    const evidence =
      failing.length > 0 || openThreads.length > 0 || status.mergeable === false || newRequests.length > 0;
    if (!evidence && lastJudgedHead(comments.kept.filter((c) => c.author === pr.author)) === status.headSha) {
      skipped.push({
        number: pr.number,
        reason: "the judge already kept it at this head; waiting for new commits, checks or comments",
      });
      continue;
    }
    const busy = await withClaim(project, routine, repo, pr.number, async () => {
      await work(
        pr,
        status,
        issue,
        evidence ? { failing, comments: newRequests, threads: openThreads } : undefined,
        filtered,
      );
      return undefined;
    });
    if (busy) skipped.push({ number: pr.number, reason: busy });
  }
  return {
    sessions,
    skipped,
    filtered: filteredAll,
    judgements,
    ...(picked.overLimit ? { note: `${picked.overLimit} more drafts wait for the next run` } : {}),
  };

  /**
   * One PR: an agent session when there is something to fix (`todo`), then the judge. The
   * judge also runs alone for a draft with nothing left to fix, so finished work is promoted
   * without spending an agent session.
   */
  async function work(
    pr: PullRequest,
    status: PullRequestStatus,
    issue: Issue | undefined,
    todo: { failing: CheckResult[]; comments: Comment[]; threads: ReviewThread[] } | undefined,
    filtered: FilteredRecord[],
  ): Promise<void> {
    const session = todo ? await fix(pr, status, issue, todo, filtered) : undefined;
    if (session) sessions.push(session);
    if ((session && session.state !== "succeeded") || workflow.judge === false) return;
    const judged = await runJudge(project, routine, workflow, {
      pr,
      ...(issue ? { issue } : {}),
      ...(session ? { agentSession: session } : {}),
      opts,
    });
    if (judged.session) sessions.push(judged.session);
    judgements.push({ number: pr.number, by: judged.by, ...judged.verdict });
  }

  /** The PR agent's session on the PR's branch, given what is to fix. */
  function fix(
    pr: PullRequest,
    status: PullRequestStatus,
    issue: Issue | undefined,
    todo: { failing: CheckResult[]; comments: Comment[]; threads: ReviewThread[] },
    filtered: FilteredRecord[],
  ): Promise<SessionRow> {
    return runSession(project, {
      routine,
      ...(issue ? { issue } : {}),
      trigger: opts.trigger ?? "manual",
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.hostEnv ? { hostEnv: opts.hostEnv } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.text ? { text: opts.text } : {}),
      onCreated: (id) => opts.onCreated?.(id),
      work: {
        itemNumber: pr.number,
        pullRequest: { number: pr.number, head: pr.head, headSha: status.headSha },
        promptSections: [
          `## Pull request #${pr.number}: ${pr.title}\n\nYou are continuing this draft pull request on its branch \`${pr.head}\`. Make it ready for review: fix what is listed below, keep the change focused on the issue.`,
          failingChecksSection(todo.failing),
          mergeSection(status),
          reviewSection(todo.threads),
          commentsSection(`New comments on PR #${pr.number}`, todo.comments),
        ].filter((s): s is string => !!s),
        filtered,
        ...(workflow.test_command ? { testCommand: workflow.test_command } : {}),
        selfReview: workflow.self_review,
      },
    });
  }
}

/** The PR's issue, when its author is allowlisted; otherwise its text never reaches a prompt. */
async function allowedIssue(
  project: Project,
  repo: string,
  number: number,
  allowlist: AuthorAllowlist,
): Promise<Issue | undefined> {
  try {
    const issue = await project.forge.getIssue(repo, number);
    return allowlist.has(issue.author) ? issue : undefined;
  } catch {
    return undefined;
  }
}
