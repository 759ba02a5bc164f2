import { ForgeError } from "../types.ts";
import { git, GitError, gitMaybe } from "../../util/git.ts";

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

/**
 * Author and committer of a merge commit the forge makes: the environment's `GIT_AUTHOR_*` /
 * `GIT_COMMITTER_*` when set, else `identity`, dated at `nowMs` (the forge's clock).
 */
export function mergeIdentityEnv(
  identity: { name: string; email: string },
  nowMs: number,
): Record<string, string> {
  const date = `@${Math.floor(nowMs / 1000)} +0000`;
  const env: Record<string, string> = {};
  for (const role of ["AUTHOR", "COMMITTER"]) {
    env[`GIT_${role}_NAME`] = process.env[`GIT_${role}_NAME`] ?? identity.name;
    env[`GIT_${role}_EMAIL`] = process.env[`GIT_${role}_EMAIL`] ?? identity.email;
    env[`GIT_${role}_DATE`] = process.env[`GIT_${role}_DATE`] ?? date;
  }
  return env;
}

/** Files changed on both sides since the merge base of `a` and `b` in `repo`, sorted. */
export async function changedOnBothSides(repo: string, a: string, b: string): Promise<string[]> {
  const names = async (from: string, to: string) =>
    new Set(
      ((await gitMaybe(repo, ["diff", "--name-only", `${from}...${to}`])) ?? "").split("\n").filter(Boolean),
    );
  const [one, other] = await Promise.all([names(b, a), names(a, b)]);
  return [...one].filter((f) => other.has(f)).sort();
}

/**
 * Moves branch `ref` (`refs/heads/…`) of `repo` from `expected` to `next` only if it is still
 * at `expected` (`git update-ref <ref> <next> <expected>`).
 *
 * @returns `{ moved: true }`, or `{ moved: false, now }` when someone moved the branch first
 *   (`now`: where it is, `undefined` when it is gone).
 * @throws {GitError} when git fails for another reason.
 */
export async function compareAndSwapRef(
  repo: string,
  ref: string,
  next: string,
  expected: string,
  reflog: string,
): Promise<{ moved: true } | { moved: false; now: string | undefined }> {
  try {
    await git(repo, ["update-ref", "-m", reflog, ref, next, expected]);
    return { moved: true };
  } catch (err) {
    const now = await gitMaybe(repo, ["rev-parse", "--verify", "--quiet", ref]);
    if (err instanceof GitError && now !== expected) return { moved: false, now };
    throw err;
  }
}
