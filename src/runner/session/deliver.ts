import { formatDuration } from "../../config/duration.ts";
import type { Routine } from "../../config/routine-schema.ts";
import type { Issue } from "../../forge/types.ts";
import type { Project } from "../../project.ts";
import { updateSession } from "../../store/sessions.ts";
import { deliverRepo, type RepoDelivery } from "../delivery/deliver.ts";
import { renderPrBody } from "../delivery/pr-body.ts";
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
  const title = prTitle(routine, req.issue, summaryText);
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
          ...(work.pullRequest && c === ws.primary
            ? { pullRequest: { number: work.pullRequest.number } }
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
    pr_number: opened?.prNumber ?? null,
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
