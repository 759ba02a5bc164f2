import type { Kysely } from "kysely";
import type { Forge } from "../../forge/types.ts";
import { type DeliveryAction, recordDelivery } from "../../store/deliveries.ts";
import type { Database } from "../../store/schema.ts";
import type { Clock } from "../../util/clock.ts";
import { type DiffSummary, diffSummary } from "./diff-summary.ts";
import { protectedPathsTouched, pushRefusal } from "./push-policy.ts";
import { workspaceGit } from "./workspace-git.ts";

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
  clonePath: string;
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
  /** Continue this pull request: push to its branch (fast-forward only) instead of opening one. */
  pullRequest?: { number: number };
  prTitle: string;
  prBody(diff: DiffSummary): string;
  onStep?(action: DeliveryAction, detail: { ref?: string; sha?: string; detail?: string }): Promise<void>;
}

/**
 * Delivers a session's work on one repository — the runner's job, not the agent's:
 * 1. commits whatever the agent left uncommitted, with `Nightshift-Session:` and
 *    `Nightshift-Routine:` trailers;
 * 2. if the branch does not differ from the base, stops: no branch, no PR (`no_changes`);
 * 3. refuses to push a branch outside the routine's prefix, or a change touching a
 *    protected path (`push_refused`, recorded);
 * 4. pushes without force to the forge and opens a draft PR — or, for a session continuing
 *    a pull request, pushes the new commits to its branch (`pr_updated`).
 * Every step goes into the delivery ledger.
 *
 * @throws {GitError | ForgeError} when pushing or opening the PR fails.
 */
export async function deliverRepo(o: DeliverOptions): Promise<RepoDelivery> {
  const step = async (action: DeliveryAction, d: { ref?: string; sha?: string; detail?: string } = {}) => {
    await recordDelivery(o.db, { sessionId: o.sessionId, repo: o.repo, action, ...d, at: o.clock.now() });
    await o.onStep?.(action, d);
  };
  const identity = {
    GIT_AUTHOR_NAME: o.authorName,
    GIT_AUTHOR_EMAIL: o.authorEmail,
    GIT_COMMITTER_NAME: o.authorName,
    GIT_COMMITTER_EMAIL: o.authorEmail,
  };
  if ((await workspaceGit(o.clonePath, ["status", "--porcelain", "--untracked-files=all"])) !== "") {
    await workspaceGit(o.clonePath, ["add", "--all"]);
    const trailers = [`Nightshift-Session: ${o.sessionId}`, `Nightshift-Routine: ${o.routine}`];
    if (o.issueNumber !== undefined) trailers.push(`Nightshift-Issue: ${o.issueNumber}`);
    await workspaceGit(
      o.clonePath,
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
    await step("commit", { sha: await workspaceGit(o.clonePath, ["rev-parse", "HEAD"]) });
  }
  const headSha = await workspaceGit(o.clonePath, ["rev-parse", "HEAD"]);
  const diff = await diffSummary(o.clonePath, o.baseSha, headSha);
  if (diff.filesChanged === 0) {
    await step("no_changes", {
      detail: headSha === o.baseSha ? "the agent changed nothing" : "the agent's commits add up to no change",
    });
    return { repo: o.repo, outcome: "no_changes" };
  }
  const branch = await workspaceGit(o.clonePath, ["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(
    () => o.sessionBranch,
  );
  const touched = protectedPathsTouched(
    diff.files.map((f) => f.path),
    o.protectedPaths,
  );
  const refusal =
    pushRefusal(branch, o.branchPrefix) ??
    (touched.length
      ? `the change touches protected paths (${touched.slice(0, 5).join(", ")}${touched.length > 5 ? ", …" : ""}); protected_paths in .nightshift/config.yaml (${o.protectedPaths.join(", ")}) may only be changed by a human`
      : undefined);
  if (refusal) {
    await step("push_refused", { ref: branch, sha: headSha, detail: refusal });
    return { repo: o.repo, outcome: "push_refused", branch, headSha, diff, reason: refusal };
  }
  // Never a force push: a plain refspec is refused by git if it would rewrite history.
  await workspaceGit(
    o.clonePath,
    ["push", "--quiet", "--no-verify", o.remoteUrl, `HEAD:refs/heads/${branch}`],
    o.gitEnv,
  );
  await step("push", { ref: branch, sha: headSha });
  if (o.pullRequest) {
    await step("pr_updated", { ref: branch, sha: headSha, detail: `#${o.pullRequest.number}` });
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
