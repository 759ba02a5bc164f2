import { formatDuration } from "../../config/duration.ts";
import type { Routine } from "../../config/routine-schema.ts";
import { type Issue, NIGHTSHIFT_AUTHOR, type PullRequest } from "../../forge/types.ts";
import type { Project } from "../../project.ts";
import type { SessionRow } from "../../store/schema.ts";
import { findSession, updateSession } from "../../store/sessions.ts";
import { deliverRepo, type RepoDelivery } from "../delivery/deliver.ts";
import {
  type ConversationTurn,
  renderConversation,
  renderPrBody,
  withConversation,
} from "../delivery/pr-body.ts";
import type { StepResult } from "../steps/test-step.ts";
import type { AgentOutcome } from "./agent.ts";
import type { SessionContext, SessionEnd } from "./context.ts";
import type { SessionWorkspace } from "./prepare.ts";
import { type StepsOutcome, testResultOf } from "./steps.ts";

/** Name of the check a session's test step reports on its PR's head (local forge). */
export const TEST_CHECK = "nightshift/test";

/**
 * Delivery, the last phase: nothing when the work says `deliver: false` (succeeded); a
 * timeout when the session's time ran out first (nothing pushed); else `finishing`, then for
 * each clone commit, push and open or update the draft PR (src/runner/delivery/), store
 * what was delivered, and report the last test step as a check on the PR's head.
 *
 * @returns how the session ends: `pr_opened`, `pr_updated`, `no_changes`, `push_refused`,
 *   `delivery_error`, or a timeout.
 */
export async function deliverSession(
  ctx: SessionContext,
  ws: SessionWorkspace,
  agent: AgentOutcome,
  steps: StepsOutcome,
): Promise<SessionEnd> {
  const { project, routine, req, work, clock, db, id, transcript } = ctx;
  const { usage, commands } = agent.passes;
  const { summaryText } = agent;
  const { lastTest, testRuns } = steps;
  const totals = usage.totals;
  if (work.deliver === false) return { state: "succeeded", infra: "ok" };

  // Delivery, if the session's time has not run out.
  if (clock.now() >= ctx.deadline)
    return {
      state: "timed_out",
      infra: "timeout",
      reason: `the session ran longer than the routine's timeout (${formatDuration(routine.timeout)}) before delivery; nothing was pushed, the work stays in the workspace`,
    };
  await ctx.setState("finishing");
  // A follow-up continues its parent's pull request (one PR per conversation), if it is still open.
  const parent = req.followUp?.parent;
  const followUpPr = parent?.pr_number ?? undefined;
  let parentPr: PullRequest | undefined;
  if (followUpPr !== undefined && parent?.repo) {
    const pr = (parentPr = await project.forge.getPullRequest(parent.repo, followUpPr));
    if (pr.state !== "open")
      return {
        state: "failed",
        infra: "ok",
        task: "push_refused",
        reason: `pull request #${followUpPr} of session ${parent.id} is ${pr.state}: a follow-up only adds to an open PR; start a new session with \`nightshift dispatch\` (the work stays in the workspace)`,
      };
  }
  const continuePr = work.pullRequest?.number ?? followUpPr;
  // The commit's subject: a follow-up's first line of instructions; a dispatch's title; else the PR title.
  const title =
    parent && continuePr !== undefined
      ? `Follow-up: ${firstLine(req.followUp!.text, 62)}`
      : (req.title ?? parent?.title ?? prTitle(routine, req.issue, summaryText));
  // Asked again: an App installation token may have expired during a long session.
  const pushEnv = await project.forge.gitEnv?.();
  const deliveries: RepoDelivery[] = [];
  try {
    for (const c of ws.clones) {
      deliveries.push(
        await deliverRepo({
          db,
          forge: project.forge,
          clock,
          sessionId: id,
          routine: routine.name,
          branchPrefix: routine.branch_prefix,
          repo: c.name,
          workspace: c.runner,
          baseSha: c.baseSha,
          baseBranch: c.baseBranch,
          sessionBranch: ws.branch,
          remoteUrl: c.remoteUrl,
          authorName: project.config.git.author_name,
          authorEmail: project.config.git.author_email,
          ...(req.issue ? { issueNumber: req.issue.number } : {}),
          protectedPaths: project.config.protected_paths,
          ...(pushEnv ? { gitEnv: pushEnv } : {}),
          ...(continuePr !== undefined && c === ws.primary ? { pullRequest: { number: continuePr } } : {}),
          ...(parent ? { continuing: true } : {}),
          ...(parent && c === ws.primary && continuePr !== undefined
            ? {
                onPullRequestUpdated: async (diff) => {
                  const body = ctx.redact(
                    followUpComment({
                      sessionId: id,
                      parentId: parent.id,
                      text: req.followUp!.text,
                      summaryText,
                      diff,
                    }),
                  );
                  await project.forge.addComment(c.name, continuePr, { author: NIGHTSHIFT_AUTHOR, body });
                },
              }
            : {}),
          prTitle: ctx.redact(title),
          prBody: (diff) =>
            ctx.redact(
              renderPrBody({
                sessionId: id,
                routine: routine.name,
                agent: routine.agent,
                model: routine.model ?? usage.model ?? null,
                ...(!routine.model && usage.model ? { modelChosenByAgent: true } : {}),
                ...(lastTest ? { tests: { ...lastTest, runs: testRuns } } : {}),
                ...(req.issue ? { issueNumber: req.issue.number } : {}),
                ...(summaryText ? { summary: summaryText } : {}),
                diff,
                commands,
                tokens: totals,
                peakContextTokens: usage.peakContextTokens,
                ...(usage.numTurns !== undefined ? { numTurns: usage.numTurns } : {}),
                ...(usage.costUsd !== undefined ? { costUsd: usage.costUsd } : {}),
                durationMs: clock.now() - ctx.startedAt,
                transcript: project.config.base_url
                  ? `${project.config.base_url.replace(/\/$/, "")}/sessions/${id}`
                  : `\`nightshift logs ${id}\``,
              }),
            ),
          onStep: (action, d) => transcript.record({ type: "delivery", action, repo: c.name, ...d }),
        }),
      );
    }
  } catch (err) {
    return { state: "failed", infra: "delivery_error", reason: `delivery failed: ${(err as Error).message}` };
  }
  const opened = deliveries.find((d) => d.outcome === "pr_opened" || d.outcome === "pr_updated");
  const refused = deliveries.find((d) => d.outcome === "push_refused");
  const changed = deliveries.filter((d) => d.diff);
  await updateSession(db, id, {
    head_sha: opened?.headSha ?? refused?.headSha ?? null,
    // A follow-up that changed nothing still belongs to its parent's PR.
    pr_number: opened?.prNumber ?? followUpPr ?? null,
    files_changed: changed.length ? changed.reduce((s, d) => s + d.diff!.filesChanged, 0) : 0,
    insertions: changed.reduce((s, d) => s + d.diff!.insertions, 0),
    deletions: changed.reduce((s, d) => s + d.diff!.deletions, 0),
    ...(opened ? { branch: opened.branch } : {}),
  });
  if (opened?.headSha && lastTest)
    await recordTestCheck(project, opened.repo, opened.headSha, lastTest).catch((err) =>
      transcript.record({
        type: "warning",
        message: `could not record the test result as a check on ${opened.headSha}: ${(err as Error).message}`,
      }),
    );
  // A follow-up rewrites its PR's body as the whole conversation (the comment stays: it is what
  // notifies the PR's watchers). The commits are pushed by now: a failure here is a warning.
  const primary = deliveries.find((d) => d.repo === ws.primary.name);
  if (
    parent &&
    parentPr &&
    continuePr === parentPr.number &&
    (primary?.outcome === "pr_updated" || primary?.outcome === "no_changes")
  ) {
    const current: ConversationTurn = {
      sessionId: id,
      kind: "follow-up",
      instructions: req.followUp!.text,
      outcome: primary.outcome,
      ...(primary.diff ? { diff: primary.diff } : {}),
      tokens: totals,
      costUsd: usage.costUsd ?? null,
    };
    try {
      const turns = [...(await conversationTurns(ctx, parent)), current];
      const body = ctx.redact(withConversation(parentPr.body, renderConversation(turns)));
      await project.forge.updatePullRequest(ws.primary.name, parentPr.number, { body });
      await transcript.record({
        type: "delivery",
        action: "pr_body_updated",
        repo: ws.primary.name,
        detail: `#${parentPr.number}: the conversation of ${turns.length} sessions`,
      });
    } catch (err) {
      await transcript.record({
        type: "warning",
        message: `could not update the body of pull request #${parentPr.number}: ${(err as Error).message}`,
      });
    }
  }
  if (refused) return { state: "failed", infra: "ok", task: "push_refused", reason: refused.reason! };
  if (opened)
    return {
      state: "succeeded",
      infra: "ok",
      task: opened.outcome === "pr_updated" ? "pr_updated" : "pr_opened",
    };
  return {
    state: "succeeded",
    infra: "ok",
    task: "no_changes",
    reason: "the agent finished without changing anything: no branch, no PR",
  };
}

/**
 * The sessions of a follow-up's conversation before it, oldest first: `parent`, its parent,
 * and so on up to the first session (at most 10,000; a cycle stops the walk), as the PR body's
 * conversation lists them.
 */
async function conversationTurns(ctx: SessionContext, parent: SessionRow): Promise<ConversationTurn[]> {
  const chain: SessionRow[] = [];
  const seen = new Set<string>();
  let s: SessionRow | undefined = parent;
  while (s && !seen.has(s.id) && chain.length < 10_000) {
    seen.add(s.id);
    chain.unshift(s);
    s = s.parent_session_id ? await findSession(ctx.db, s.parent_session_id) : undefined;
  }
  return chain.map((r, i): ConversationTurn => {
    const first = i === 0 && !r.parent_session_id;
    return {
      sessionId: r.id,
      kind: first ? "first" : "follow-up",
      instructions: first ? (r.input_text ?? r.title) : r.input_text,
      ...(first ? { routine: r.routine } : {}),
      ...(first && r.issue_number !== null ? { issueNumber: r.issue_number } : {}),
      outcome: r.task_outcome ?? r.state,
      ...(r.files_changed
        ? {
            diff: {
              filesChanged: r.files_changed,
              insertions: r.insertions ?? 0,
              deletions: r.deletions ?? 0,
            },
          }
        : {}),
      tokens: {
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cacheReadTokens: r.cache_read_tokens,
        cacheCreationTokens: r.cache_creation_tokens,
      },
      costUsd: r.cost_usd,
    };
  });
}

/**
 * A pull request's title (and the subject of the runner's commit), written for people: the
 * issue's title; else the first line of the routine's description; else the agent's summary
 * when its first line is a short heading or sentence of its own (at most 72 characters, not
 * introducing more with `:`); else `Changes by the <routine> routine`. Never a cut-off
 * sentence, and no session tag: the session id is in the body, the commit trailers
 * (`Nightshift-Session:`) and the branch, which the ledger reads.
 */
function prTitle(routine: Routine, issue: Issue | undefined, summary: string | undefined): string {
  if (issue?.title.trim()) return issue.title.trim();
  const described = routine.description?.trim().split("\n")[0]?.trim();
  if (described) return described;
  const first = summary
    ?.trim()
    .split("\n")[0]
    ?.replace(/^#+\s*/, "")
    .replace(/^\*\*(.*)\*\*$/, "$1")
    .trim();
  if (first && first.length <= 72 && !first.endsWith(":")) return first;
  return `Changes by the ${routine.name} routine`;
}

/**
 * Reports the session's last test step as a check on the PR's head commit, as a CI would, so
 * `nightshift pr checks`, the guard and the judge see it. Only the local forge stores checks
 * (GitHub accepts check runs from App tokens only); it is not a required check.
 */
async function recordTestCheck(project: Project, repo: string, sha: string, step: StepResult): Promise<void> {
  const local = project.forge.local;
  if (!local) return;
  const result = testResultOf(step);
  await local.recordCheck(repo, sha, {
    name: TEST_CHECK,
    status: "completed",
    conclusion: result === "passed" ? "success" : result === "killed" ? "cancelled" : "failure",
    required: false,
    output: `$ ${step.command}\n${step.output}\n[exit ${step.exitCode ?? "killed"}]`,
  });
}

/**
 * The comment a follow-up leaves on the pull request it added commits to: which session, the
 * instructions it was given (quoted, cut at 1,000 characters), the agent's summary (cut at
 * 3,000) and what changed. The PR's body is rewritten too (its conversation section).
 */
function followUpComment(f: {
  sessionId: string;
  parentId: string;
  text: string;
  summaryText: string | undefined;
  diff: { filesChanged: number; insertions: number; deletions: number; files: { path: string }[] };
}): string {
  const cut = (t: string, n: number) => (t.length > n ? `${t.slice(0, n)}…` : t);
  const quoted = cut(f.text.trim(), 1000)
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");
  const lines = [
    `Follow-up session \`${f.sessionId}\` (continuing \`${f.parentId}\`) added commits to this pull request.`,
    "",
    quoted,
  ];
  if (f.summaryText?.trim()) lines.push("", "## Summary", "", cut(f.summaryText.trim(), 3000));
  lines.push(
    "",
    `${f.diff.filesChanged} file${f.diff.filesChanged === 1 ? "" : "s"} changed, +${f.diff.insertions} −${f.diff.deletions}`,
    ...f.diff.files.slice(0, 30).map((x) => `- \`${x.path}\``),
    "",
    `Transcript: \`nightshift logs ${f.sessionId}\``,
  );
  return `${lines.join("\n")}\n`;
}

/** The first non-empty line of `text`, cut to `n` characters (with `…` when cut). */
function firstLine(text: string, n: number): string {
  const line = text.trim().split("\n")[0]?.trim() ?? "";
  return line.length > n ? `${line.slice(0, n - 1)}…` : line || "more work";
}
