import type { CheckResult, Comment, PullRequest, PullRequestStatus, ReviewThread } from "../forge/types.ts";

/**
 * The prompt sections a deque routine adds after the issue: the discussion, earlier
 * attempts, failing checks, open review threads. Callers pass only allowlisted text: these
 * functions format, they do not filter.
 */

/** Longest check output (characters) put into a prompt; the tail is kept (errors are at the end). */
export const CHECK_OUTPUT_CHARS = 8_000;

/** The issue's or PR's comments, oldest first. */
export function commentsSection(title: string, comments: Comment[]): string | undefined {
  if (comments.length === 0) return undefined;
  return [
    `## ${title}`,
    ...comments.map((c) => `### @${c.author} on ${new Date(c.createdAt).toISOString()}\n\n${c.body.trim()}`),
  ].join("\n\n");
}

/**
 * Earlier attempts at the issue that were closed without merging, with the reasons left on
 * them (the judge's close comment), so the next attempt can avoid the same mistake.
 */
export function earlierAttemptsSection(
  attempts: { pr: PullRequest; notes: Comment[] }[],
): string | undefined {
  if (attempts.length === 0) return undefined;
  return [
    "## Earlier attempts (closed without merging)",
    "Learn from them: do not repeat an approach that was rejected.",
    ...attempts.map(({ pr, notes }) =>
      [
        `### PR #${pr.number}: ${pr.title} (branch ${pr.head})`,
        ...notes.map((n) => `@${n.author}: ${n.body.trim()}`),
      ].join("\n"),
    ),
  ].join("\n\n");
}

/**
 * nightshift PRs for the issue that were merged: their work is already on the base branch.
 * Present only when a person asked for more after the merge (see `resolvedBy` in ledger.ts).
 */
export function mergedWorkSection(merged: PullRequest[]): string | undefined {
  if (merged.length === 0) return undefined;
  return [
    "## Merged earlier",
    "This work is already on the base branch. Build on it; the discussion says what is still missing.",
    ...merged.map((pr) => `- PR #${pr.number}: ${pr.title} (branch ${pr.head}, merged into ${pr.base})`),
  ].join("\n");
}

/** Failing checks with the tail of their output. */
export function failingChecksSection(checks: CheckResult[]): string | undefined {
  if (checks.length === 0) return undefined;
  return [
    "## Failing checks",
    "Make these pass. Run the same command locally in the workspace to reproduce.",
    ...checks.map((c) => {
      const out = c.output?.trim();
      const tail =
        out && out.length > CHECK_OUTPUT_CHARS ? `…${out.slice(out.length - CHECK_OUTPUT_CHARS)}` : out;
      return [
        `### ${c.name}: ${c.conclusion}${c.url ? ` (${c.url})` : ""}`,
        tail ? `\`\`\`\n${tail}\n\`\`\`` : "(no output available)",
      ].join("\n");
    }),
  ].join("\n\n");
}

/** Unresolved review threads: where, and what was asked. */
export function reviewSection(threads: ReviewThread[]): string | undefined {
  const open = threads.filter((t) => !t.resolved && t.comments.length > 0);
  if (open.length === 0) return undefined;
  return [
    "## Unresolved review comments",
    "Address each one in the code.",
    ...open.map((t) =>
      [
        `### ${t.path ?? "(general)"}${t.line ? `:${t.line}` : ""}`,
        ...t.comments.map((c) => `@${c.author}: ${c.body.trim()}`),
      ].join("\n"),
    ),
  ].join("\n\n");
}

/** A note when the branch conflicts with or is behind its base. */
export function mergeSection(status: PullRequestStatus): string | undefined {
  if (status.mergeable === false || status.mergeState === "dirty") {
    return `## Merge conflicts\n\nThis branch conflicts with \`${status.base}\`. Merge \`origin/${status.base}\` into it (\`git merge origin/${status.base}\`), resolve the conflicts and commit the merge. Do not rebase: the branch is pushed without force.`;
  }
  return undefined;
}
