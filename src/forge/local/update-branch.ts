import { updatePullRequest } from "../../store/forge-items.ts";
import { git } from "../../util/git.ts";
import { serialised } from "../../util/serialised.ts";
import { ForgeError, type LocalUpdateBranchResult } from "../types.ts";
import { settleMerged } from "./merge-status.ts";
import { changedOnBothSides, compareAndSwapRef, mergeIdentityEnv, mergeTree } from "./merge-tree.ts";
import { barePath, branchTips, type LocalForgeState, pullRequestRow, repoLock } from "./state.ts";

export type { LocalUpdateBranchResult } from "../types.ts";

/**
 * Brings a pull request's head up to date with its base by a merge commit, as GitHub's
 * update-branch does: the tree from `git merge-tree --write-tree <head> <base>`, a commit
 * with parents head and base ("Merge branch '<base>' into <head>"), and
 * `git update-ref refs/heads/<head> <new> <expectedHeadSha>`, which refuses if the head moved
 * meanwhile. Never a rebase, never a force. Serialised with publishing on the repository.
 *
 * @returns `updated` with the new head, or why not: `head_moved` (the head is not
 *   `expectedHeadSha`), `up_to_date` (the head has every base commit), `conflict`.
 * @throws {ForgeError} when there is no such PR, it is not open, or a branch is gone.
 */
export function updateBranch(
  s: LocalForgeState,
  repo: string,
  number: number,
  expectedHeadSha: string,
): Promise<LocalUpdateBranchResult> {
  return serialised(repoLock(s, repo), () => update(s, repo, number, expectedHeadSha));
}

async function update(
  s: LocalForgeState,
  repo: string,
  number: number,
  expected: string,
): Promise<LocalUpdateBranchResult> {
  await settleMerged(s, repo);
  const row = await pullRequestRow(s, repo, number);
  if (row.state !== "open")
    throw new ForgeError(
      `local forge: pull request #${number} of ${repo} is ${row.state}; cannot update its branch`,
    );
  const bare = barePath(s, repo);
  const tips = await branchTips(s, repo);
  const head = tips.get(row.head);
  const base = tips.get(row.base);
  if (!head || !base)
    throw new ForgeError(
      `local forge: pull request #${number} of ${repo}: branch "${head ? row.base : row.head}" is gone`,
    );
  if (head !== expected)
    return {
      updated: false,
      reason: "head_moved",
      detail: `${row.head} is at ${head}, not the expected ${expected}`,
    };
  const behind = Number(await git(bare, ["rev-list", "--count", `${head}..${base}`]));
  if (behind === 0)
    return { updated: false, reason: "up_to_date", detail: `${row.head} already contains ${row.base}` };
  const merge = await mergeTree(bare, head, base);
  if (!merge.clean) {
    const both = await changedOnBothSides(bare, head, base);
    return {
      updated: false,
      reason: "conflict",
      detail: `merging ${row.base} into ${row.head}: ${merge.detail}${both.length ? ` (files changed on both sides: ${both.join(", ")})` : ""}`,
    };
  }
  const env = mergeIdentityEnv(s.identity, s.clock.now());
  const commit = await git(
    bare,
    ["commit-tree", merge.tree, "-p", head, "-p", base, "-m", `Merge branch '${row.base}' into ${row.head}`],
    { env },
  );
  const cas = await compareAndSwapRef(
    bare,
    `refs/heads/${row.head}`,
    commit,
    head,
    `nightshift: update branch of #${number}`,
  );
  if (!cas.moved)
    return {
      updated: false,
      reason: "head_moved",
      detail: `${row.head} moved to ${cas.now ?? "nothing"} while merging; expected ${head}`,
    };
  await updatePullRequest(s.db, repo, number, { updated_at: s.clock.now() });
  return { updated: true, headSha: commit };
}
