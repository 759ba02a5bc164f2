import { selectChecks, updatePullRequest } from "../../store/forge-items.ts";
import { git, gitMaybe } from "../../util/git.ts";
import { serialised } from "../../util/serialised.ts";
import { type CheckResult, ForgeError, type LocalMergeResult } from "../types.ts";
import { CI_CHECK } from "./ci-command.ts";
import { settleMerged } from "./merge-status.ts";
import { changedOnBothSides, compareAndSwapRef, mergeIdentityEnv, mergeTree } from "./merge-tree.ts";
import { toCheck } from "./rows.ts";
import { barePath, branchTips, type LocalForgeState, pullRequestRow, repoLock } from "./state.ts";

export type { LocalMergeResult } from "../types.ts";

/** Conclusions that let a pull request merge (GitHub treats `neutral` and `skipped` as passing). */
const PASSING = new Set(["success", "neutral", "skipped"]);

/** How often a merge is redone when the base moves between reading it and updating it. */
const CAS_ATTEMPTS = 3;

/** Options of {@link mergePullRequest}. */
export interface MergeOptions {
  /** Refuse (`head_moved`) unless the head branch is at this commit (full id). */
  expectedHeadSha?: string;
  /**
   * Called once, after the merge commit is made and before the base branch is updated; for
   * tests that move the base in between. Not for production use.
   */
  beforeUpdate?(): Promise<void>;
}

/**
 * Merges an open, ready pull request into its base branch with a merge commit, as `git merge
 * --no-ff` would, entirely in the bare repository: the tree from `git merge-tree --write-tree
 * <base> <head>`, a commit with parents base and head ("Merge pull request #N from <head>"),
 * then `git update-ref refs/heads/<base> <new> <old>`, a compare-and-swap: when someone pushed
 * to the base meanwhile, the merge is redone on the new base (up to 3 times), so their commit
 * is never lost. Then the pull request is marked merged. Serialised with publishing and branch
 * updates on the repository.
 *
 * Refused, with a reason and a sentence saying why: `draft`; `not_open` (closed or already
 * merged); `head_moved` (not at `expectedHeadSha`); `checks_failed` (a completed check on the
 * head concluded other than success/neutral/skipped); `checks_pending` (a required check has
 * not completed, or `forge.ci` is set and has no result for the head yet); `conflict`;
 * `base_moved` (the base kept moving).
 *
 * @throws {ForgeError} when there is no such pull request or one of its branches is gone.
 */
export function mergePullRequest(
  s: LocalForgeState,
  repo: string,
  number: number,
  opts: MergeOptions = {},
): Promise<LocalMergeResult> {
  return serialised(repoLock(s, repo), () => merge(s, repo, number, opts));
}

async function merge(
  s: LocalForgeState,
  repo: string,
  number: number,
  opts: MergeOptions,
): Promise<LocalMergeResult> {
  await settleMerged(s, repo);
  const row = await pullRequestRow(s, repo, number);
  if (row.state !== "open")
    return { merged: false, reason: "not_open", detail: `pull request #${number} is ${row.state}` };
  if (row.draft === 1)
    return {
      merged: false,
      reason: "draft",
      detail: `pull request #${number} is a draft; mark it ready for review first (\`nightshift pr ready ${number}\`)`,
    };
  const bare = barePath(s, repo);
  const tips = await branchTips(s, repo);
  const head = tips.get(row.head);
  if (!tips.get(row.base) || !head)
    throw new ForgeError(
      `local forge: pull request #${number} of ${repo}: branch "${head ? row.base : row.head}" is gone`,
    );
  if (opts.expectedHeadSha !== undefined && head !== opts.expectedHeadSha)
    return {
      merged: false,
      reason: "head_moved",
      detail: `${row.head} is at ${head}, not the expected ${opts.expectedHeadSha}`,
    };
  const checks = (await selectChecks(s.db, repo, [head])).map(toCheck);
  if (s.ci && !checks.some((c) => c.name === CI_CHECK))
    checks.push({ name: CI_CHECK, status: "queued", conclusion: null, required: true });
  const failed = checks.filter((c) => c.status === "completed" && !PASSING.has(c.conclusion ?? ""));
  if (failed.length)
    return {
      merged: false,
      reason: "checks_failed",
      detail: `checks failed on ${head.slice(0, 10)}: ${failed.map((c) => `${c.name} (${c.conclusion})`).join(", ")} (see \`nightshift pr checks ${number}\`)`,
    };
  const pending = checks.filter((c: CheckResult) => c.required && c.status !== "completed");
  if (pending.length)
    return {
      merged: false,
      reason: "checks_pending",
      detail: `checks not finished on ${head.slice(0, 10)}: ${pending.map((c) => `${c.name} (${c.status})`).join(", ")} (run them with \`nightshift pr checks ${number} --run\`)`,
    };

  const env = mergeIdentityEnv(s.identity, s.clock.now());
  let hook = opts.beforeUpdate;
  for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
    const base = await gitMaybe(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${row.base}`]);
    if (!base)
      throw new ForgeError(`local forge: pull request #${number} of ${repo}: branch "${row.base}" is gone`);
    const m = await mergeTree(bare, base, head);
    if (!m.clean) {
      const both = await changedOnBothSides(bare, base, head);
      return {
        merged: false,
        reason: "conflict",
        detail: `merging ${row.head} into ${row.base}: ${m.detail}${both.length ? ` (files changed on both sides: ${both.join(", ")})` : ""}; update the branch first (\`nightshift pr update-branch ${number}\`) or resolve by hand`,
      };
    }
    const message = `Merge pull request #${number} from ${row.head}\n\n${row.title}`;
    const commit = await git(bare, ["commit-tree", m.tree, "-p", base, "-p", head, "-m", message], { env });
    if (hook) {
      const h = hook;
      hook = undefined;
      await h();
    }
    const cas = await compareAndSwapRef(
      bare,
      `refs/heads/${row.base}`,
      commit,
      base,
      `nightshift: merge pull request #${number}`,
    );
    if (!cas.moved) continue; // someone pushed to the base: redo on top
    await updatePullRequest(s.db, repo, number, { state: "merged", updated_at: s.clock.now() });
    return { merged: true, sha: commit, base: row.base, baseBefore: base, headSha: head };
  }
  return {
    merged: false,
    reason: "base_moved",
    detail: `${row.base} moved ${CAS_ATTEMPTS} times while merging; try again`,
  };
}
