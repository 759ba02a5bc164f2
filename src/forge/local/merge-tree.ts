import { ForgeError } from "../types.ts";
import { git, GitError } from "../../util/git.ts";

/** `git merge-tree --write-tree` (a merge without a work tree) arrived in git 2.38. */
const MIN_GIT = [2, 38] as const;

let versionCheck: Promise<void> | undefined;

/**
 * Makes sure the installed git can merge without a work tree.
 * @throws {ForgeError} when git is older than 2.38, naming the version found.
 */
export function requireMergeTree(cwd: string): Promise<void> {
  versionCheck ??= (async () => {
    const out = await git(cwd, ["--version"]);
    const m = /(\d+)\.(\d+)/.exec(out);
    const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
    if (major < MIN_GIT[0] || (major === MIN_GIT[0] && minor < MIN_GIT[1])) {
      throw new ForgeError(
        `local forge: needs git ≥ ${MIN_GIT.join(".")} for \`git merge-tree --write-tree\`, found "${out}"; upgrade git`,
      );
    }
  })();
  versionCheck.catch(() => (versionCheck = undefined));
  return versionCheck;
}

/** What merging `theirs` into `ours` would give. */
export type MergeTreeResult = { clean: true; tree: string } | { clean: false; detail: string };

/**
 * Merges two commits in the object database of `repo` (a bare repository is fine) without
 * touching any ref or work tree: `git merge-tree --write-tree <ours> <theirs>`, whose exit
 * status is 0 for a clean merge (stdout: the tree) and 1 for conflicts. Commits with no common
 * history count as conflicting, as git refuses to merge them.
 *
 * @throws {GitError} when git fails otherwise (an unknown commit, a broken repository).
 */
export async function mergeTree(repo: string, ours: string, theirs: string): Promise<MergeTreeResult> {
  await requireMergeTree(repo);
  try {
    const out = await git(repo, ["merge-tree", "--write-tree", "--no-messages", ours, theirs]);
    return { clean: true, tree: out.split("\n")[0]!.trim() };
  } catch (err) {
    if (err instanceof GitError && err.exitCode === 1) return { clean: false, detail: "conflicting changes" };
    if (err instanceof GitError && /unrelated histories/.test(err.stderr))
      return { clean: false, detail: "the branches share no history" };
    throw err;
  }
}
