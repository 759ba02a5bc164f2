import type { Kysely } from "kysely";
import type { Forge } from "../../forge/types.ts";
import { type DeliveryAction, recordDelivery } from "../../store/deliveries.ts";
import type { Database } from "../../store/schema.ts";
import type { Clock } from "../../util/clock.ts";
import { type DiffSummary, diffSummary } from "./diff-summary.ts";
import { protectedPathsTouched, pushRefusal } from "./push-policy.ts";
import { lstatSync } from "node:fs";
import { GitError } from "../../util/git.ts";
import {
  AgentBranchRefusal,
  AgentGitRefusal,
  importAgentCommits,
  runnerGit,
  type RunnerRepo,
} from "../workspace/runner-git.ts";

/** The outcome of delivering one repository of a session. */
export interface RepoDelivery {
  repo: string;
  /** `pr_updated`: new commits pushed to an existing pull request's branch. */
  outcome: "no_changes" | "push_refused" | "pr_opened" | "pr_updated";
  branch?: string;
  headSha?: string;
  prNumber?: number;
  diff?: DiffSummary;
  reason?: string;
}

/** Everything {@link deliverRepo} needs; `author*` is the runner's commit identity. */
export interface DeliverOptions {
  db: Kysely<Database>;
  forge: Forge;
  clock: Clock;
  sessionId: string;
  routine: string;
  branchPrefix: string;
  repo: string;
  /** The workspace: the runner's git dir and the agent's tree. */
  workspace: RunnerRepo;
  baseSha: string;
  baseBranch: string;
  sessionBranch: string;
  remoteUrl: string;
  authorName: string;
  authorEmail: string;
  issueNumber?: number;
  /** Globs of paths no push may touch (`protected_paths`); checked on the session's own changes. */
  protectedPaths: string[];
  /** git environment for the push (the forge's credentials); never reaches the agent. */
  gitEnv?: Record<string, string>;
  /**
   * Continue this pull request: push to its branch (fast-forward only from `baseSha`, its head
   * when the session started) instead of opening one.
   */
  pullRequest?: { number: number };
  /**
   * A follow-up: the runner's branch already holds the earlier session's delivered work at
   * `baseSha`, which the agent's own clone may not have (the runner committed what the agent
   * left uncommitted). When the agent's branch does not descend from `baseSha`, its tree is
   * committed on top of `baseSha` instead of being refused.
   */
  continuing?: boolean;
  /**
   * Called after new commits were pushed to `pullRequest`'s branch, with the change since
   * `baseSha` (a follow-up reports what it added on the PR). Failures are the caller's.
   */
  onPullRequestUpdated?(diff: DiffSummary, headSha: string): Promise<void>;
  prTitle: string;
  prBody(diff: DiffSummary): string;
  onStep?(action: DeliveryAction, detail: { ref?: string; sha?: string; detail?: string }): Promise<void>;
}

/**
 * Delivers a session's work on one repository — the runner's job, not the agent's. Call it
 * only once every process of the session is gone. All git runs in the runner's own git dir
 * (runner-git.ts): the agent's `.git` is read as data, never used as a repository.
 * 1. takes the agent's commits on the session branch (refused if HEAD is on another branch);
 * 2. commits whatever the agent left uncommitted, with `Nightshift-Session:` and
 *    `Nightshift-Routine:` trailers;
 * 3. if the branch does not differ from the base, stops: no branch, no PR (`no_changes`);
 * 4. refuses a branch outside the routine's prefix, a history that does not descend from the
 *    session's start, or a change touching a protected path (`push_refused`, recorded);
 * 5. pushes the session's own branch only: a new branch is created (refused if it already
 *    exists on the forge), a pull request's branch only fast-forwarded from the head the
 *    session started from — never a force push — and opens a draft PR, or for a session
 *    continuing a pull request records `pr_updated`.
 * Every step goes into the delivery ledger.
 *
 * @throws {GitError | ForgeError} when pushing or opening the PR fails.
 */
export async function deliverRepo(o: DeliverOptions): Promise<RepoDelivery> {
  const step = async (action: DeliveryAction, d: { ref?: string; sha?: string; detail?: string } = {}) => {
    await recordDelivery(o.db, { sessionId: o.sessionId, repo: o.repo, action, ...d, at: o.clock.now() });
    await o.onStep?.(action, d);
  };
  const refuse = async (reason: string, ref: string, headSha?: string, diff?: DiffSummary) => {
    await step("push_refused", { ref, ...(headSha ? { sha: headSha } : {}), detail: reason });
    return {
      repo: o.repo,
      outcome: "push_refused" as const,
      branch: ref,
      ...(headSha ? { headSha } : {}),
      ...(diff ? { diff } : {}),
      reason,
    };
  };
  const identity = {
    GIT_AUTHOR_NAME: o.authorName,
    GIT_AUTHOR_EMAIL: o.authorEmail,
    GIT_COMMITTER_NAME: o.authorName,
    GIT_COMMITTER_EMAIL: o.authorEmail,
  };
  const ws = o.workspace;
  const treeProblem = workTreeProblem(ws.workTree);
  if (treeProblem) return refuse(treeProblem, o.sessionBranch);
  let agentHead: string;
  try {
    agentHead = await importAgentCommits(ws, o.sessionBranch);
  } catch (err) {
    if (!(err instanceof AgentGitRefusal)) throw err;
    const ref = err instanceof AgentBranchRefusal ? err.agentBranch : o.sessionBranch;
    const outside =
      err instanceof AgentBranchRefusal ? pushRefusal(err.agentBranch, o.branchPrefix) : undefined;
    return refuse(outside ?? err.message, ref);
  }
  if (o.continuing && agentHead !== o.baseSha) {
    const descendsFromStart = await runnerGit(ws, ["merge-base", "--is-ancestor", o.baseSha, agentHead]).then(
      () => true,
      () => false,
    );
    if (!descendsFromStart) {
      // The agent's clone is behind the runner's branch (the earlier session's runner commit):
      // its tree, whatever its history, is committed on top of where the branch is.
      await runnerGit(ws, ["update-ref", `refs/heads/${o.sessionBranch}`, o.baseSha]);
      agentHead = o.baseSha;
    }
  }
  // What the agent left uncommitted: its tree against its last commit, in the runner's index.
  await runnerGit(ws, ["read-tree", agentHead]);
  await runnerGit(ws, ["add", "--all"]);
  const clean = await runnerGit(ws, ["diff", "--cached", "--quiet", "--ignore-submodules=all"]).then(
    () => true,
    () => false,
  );
  if (!clean) {
    const trailers = [`Nightshift-Session: ${o.sessionId}`, `Nightshift-Routine: ${o.routine}`];
    if (o.issueNumber !== undefined) trailers.push(`Nightshift-Issue: ${o.issueNumber}`);
    await runnerGit(
      ws,
      [
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        `${o.prTitle}`,
        ...trailers.flatMap((t) => ["--trailer", t]),
      ],
      identity,
    );
    await step("commit", { sha: await runnerGit(ws, ["rev-parse", "HEAD"]) });
  }
  const headSha = await runnerGit(ws, ["rev-parse", "HEAD"]);
  const diff = await diffSummary(ws, o.baseSha, headSha);
  if (diff.filesChanged === 0) {
    await step("no_changes", {
      detail: headSha === o.baseSha ? "the agent changed nothing" : "the agent's commits add up to no change",
    });
    return { repo: o.repo, outcome: "no_changes" };
  }
  const branch = o.sessionBranch;
  const descends = await runnerGit(ws, ["merge-base", "--is-ancestor", o.baseSha, headSha]).then(
    () => true,
    () => false,
  );
  const touched = protectedPathsTouched(
    diff.files.map((f) => f.path),
    o.protectedPaths,
  );
  const refusal =
    pushRefusal(branch, o.branchPrefix) ??
    (descends
      ? undefined
      : `the agent's history on "${branch}" does not descend from the commit the session started from (${o.baseSha.slice(0, 12)}); nightshift only adds commits on top of it`) ??
    (touched.length
      ? `the change touches protected paths (${touched.slice(0, 5).join(", ")}${touched.length > 5 ? ", …" : ""}); protected_paths in .nightshift/config.yaml (${o.protectedPaths.join(", ")}) may only be changed by a human`
      : undefined);
  if (refusal) return refuse(refusal, branch, headSha, diff);
  // The session's own branch only. A new branch must not exist yet (an empty lease: create
  // only); a pull request's branch must still be where the session found it, and the new head
  // descends from it (checked above): a fast-forward. Never a force push.
  const expected = o.pullRequest ? o.baseSha : "";
  try {
    await runnerGit(
      ws,
      [
        "push",
        "--quiet",
        "--no-verify",
        `--force-with-lease=refs/heads/${branch}:${expected}`,
        o.remoteUrl,
        `${headSha}:refs/heads/${branch}`,
      ],
      o.gitEnv,
    );
  } catch (err) {
    if (err instanceof GitError && /stale info|\[rejected\]/.test(err.stderr)) {
      return refuse(
        o.pullRequest
          ? `branch "${branch}" changed on the forge during the session (it is no longer at ${o.baseSha.slice(0, 12)}); nothing was pushed`
          : `branch "${branch}" already exists on the forge; a session only creates its own new branch`,
        branch,
        headSha,
        diff,
      );
    }
    throw err;
  }
  await step("push", { ref: branch, sha: headSha });
  if (o.pullRequest) {
    await step("pr_updated", { ref: branch, sha: headSha, detail: `#${o.pullRequest.number}` });
    await o.onPullRequestUpdated?.(diff, headSha);
    return { repo: o.repo, outcome: "pr_updated", branch, headSha, prNumber: o.pullRequest.number, diff };
  }
  const pr = await o.forge.createPullRequest(o.repo, {
    title: o.prTitle,
    body: o.prBody(diff),
    head: branch,
    base: o.baseBranch,
    draft: true,
    sessionId: o.sessionId,
  });
  await step("pr_opened", { ref: branch, sha: headSha, detail: `#${pr.number}` });
  return { repo: o.repo, outcome: "pr_opened", branch, headSha, prNumber: pr.number, diff };
}

/** Why the agent's tree cannot be read as the work tree (replaced by a link or a file), if so. */
function workTreeProblem(path: string): string | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return `the workspace ${path} is gone`;
  if (!st.isDirectory()) return `the workspace ${path} was replaced by something other than a folder`;
  return undefined;
}
