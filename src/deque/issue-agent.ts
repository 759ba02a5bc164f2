import type { Routine } from "../config/routine-schema.ts";
import type { Workflow } from "../config/deque-schema.ts";
import type { Issue } from "../forge/types.ts";
import type { Project } from "../project.ts";
import { runSession } from "../runner/session.ts";
import type { SessionRow } from "../store/schema.ts";
import { commentsSection, earlierAttemptsSection, mergedWorkSection } from "./context.ts";
import { withClaim } from "./claims.ts";
import { pickItems } from "./pick.ts";
import { issueBranch, parseIssueBranch, readLedger, resolvedBy } from "./ledger.ts";
import { type DequeRunOptions, type DequeRunResult, emptyAllowlistNote, type Skip } from "./run-result.ts";
import { AuthorAllowlist, filterByAuthor, type FilteredRecord } from "./select/index.ts";

/**
 * The issue agent: deterministic steps around one agent step per issue.
 * 1. back-pressure: no new work when the repository already has `deque.max_open_drafts`
 *    nightshift drafts open;
 * 2. select: open issues by allowlisted authors, minus issues that already have an open
 *    nightshift PR (the ledger: issue → open PR → head SHA), minus issues a merged nightshift
 *    PR resolved (unless an allowlisted person commented on the issue since: see
 *    {@link resolvedBy}), minus issues cooling down after a failed or empty attempt, ordered
 *    by the routine's strategy, at most `limit`;
 * 3. per issue, one session: the prompt gets the issue, its allowlisted comments, the
 *    earlier attempts closed without merging and any merged PRs; the agent works on
 *    `<prefix>issue-<n>-<session>`; the test command and a self-review pass run after it
 *    (src/runner/session.ts); the runner commits, pushes (refusing protected paths) and
 *    opens a draft PR that says `Refs #n` (never closing the issue). A no-op leaves no
 *    branch, PR or comment.
 * Issue agents never close issues: nothing here can.
 */
export async function runIssueAgent(
  project: Project,
  routine: Routine,
  workflow: Workflow,
  opts: DequeRunOptions = {},
): Promise<DequeRunResult> {
  const repo = project.repoName;
  const forge = project.forge;
  const skipped: Skip[] = [];
  const ledger = await readLedger(forge, repo, routine.branch_prefix);
  const maxDrafts = project.config.deque.max_open_drafts;
  if (ledger.drafts.length >= maxDrafts) {
    return {
      sessions: [],
      skipped,
      filtered: [],
      note: `back-pressure: ${ledger.drafts.length} nightshift drafts are open in ${repo} (deque.max_open_drafts: ${maxDrafts}); no new PRs until some are promoted or closed`,
    };
  }
  const allowlist = new AuthorAllowlist(project.config.deque.allowed_authors);
  const issues = await forge.listIssues(repo, { state: "open" });
  const { kept, filtered } = filterByAuthor(issues, allowlist, "issue");
  const free: Issue[] = [];
  for (const issue of kept) {
    const open = ledger.openByIssue.get(issue.number);
    if (open?.length) {
      skipped.push({
        number: issue.number,
        reason: `already has open PR #${open[0]!.number} (${open[0]!.head}${open[0]!.headSha ? ` at ${open[0]!.headSha.slice(0, 12)}` : ""})`,
      });
      continue;
    }
    const merged = ledger.mergedByIssue.get(issue.number);
    if (merged?.length) {
      const asked = filterByAuthor(await forge.listComments(repo, issue.number), allowlist, "comment").kept;
      const done = resolvedBy(merged, asked);
      if (done) {
        skipped.push({
          number: issue.number,
          reason: `resolved by merged PR #${done.number} (${done.head}); comment on the issue to have nightshift work on it again`,
        });
        continue;
      }
    }
    free.push(issue);
  }
  const picked = await pickItems(project, repo, workflow, free, {
    limit: Math.min(workflow.select.limit, maxDrafts - ledger.drafts.length),
    skipped,
    opts,
  });

  const sessions: SessionRow[] = [];
  for (const issue of picked.selected) {
    if (opts.signal?.aborted) break;
    const claimed = await withClaim(project, routine, repo, issue.number, async () => {
      // Another routine may have opened a PR for it since the ledger was read.
      const open = (await forge.listPullRequests(repo, { state: "open" })).find(
        (p) => parseIssueBranch(routine.branch_prefix, p.head)?.issue === issue.number,
      );
      if (open) return `already has open PR #${open.number} (opened while this run was selecting)`;
      sessions.push(await runOne(issue));
      return undefined;
    });
    if (claimed) skipped.push({ number: issue.number, reason: claimed });
  }
  return {
    sessions,
    skipped,
    filtered,
    ...(picked.overLimit ? { note: `${picked.overLimit} more eligible issues wait for the next run` } : {}),
    ...emptyAllowlistNote(allowlist.logins),
  };

  async function runOne(issue: Issue): Promise<SessionRow> {
    const comments = filterByAuthor(await forge.listComments(repo, issue.number), allowlist, "comment");
    const attemptsOnIssue = [];
    for (const pr of ledger.failedByIssue.get(issue.number) ?? []) {
      const notes = filterByAuthor(
        await forge.listComments(repo, pr.number),
        new AuthorAllowlist([...allowlist.logins, pr.author]),
        "comment",
      );
      attemptsOnIssue.push({ pr, notes: notes.kept });
    }
    const sessionFiltered: FilteredRecord[] = [...comments.filtered];
    return runSession(project, {
      routine,
      issue,
      trigger: opts.trigger ?? "manual",
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.hostEnv ? { hostEnv: opts.hostEnv } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.text ? { text: opts.text } : {}),
      onCreated: (id) => opts.onCreated?.(id),
      work: {
        itemNumber: issue.number,
        branch: (id) => issueBranch(routine.branch_prefix, issue.number, id),
        promptSections: [
          commentsSection(`Discussion on #${issue.number}`, comments.kept),
          earlierAttemptsSection(attemptsOnIssue),
          mergedWorkSection(ledger.mergedByIssue.get(issue.number) ?? []),
        ].filter((s): s is string => !!s),
        filtered: sessionFiltered,
        ...(workflow.test_command ? { testCommand: workflow.test_command } : {}),
        selfReview: workflow.self_review,
      },
    });
  }
}
