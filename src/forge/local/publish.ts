import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { git, gitMaybe } from "../../util/git.ts";
import { plainGitDir, readHeadBranch, readRefFile } from "../../util/git-refs.ts";
import { serialised } from "../../util/serialised.ts";
import { ForgeError, type ForgeRepo } from "../types.ts";
import { barePath, type LocalForgeState, repoLock } from "./state.ts";

/**
 * Creates the bare repository of `name` if needed and publishes the source's base branch into
 * it, serialised with other publishes and branch updates on that repository.
 * @throws {ForgeError} when the repository is not one of the project's, or has no commit.
 */
export function publishRepo(s: LocalForgeState, name: string): Promise<ForgeRepo> {
  return serialised(repoLock(s, name), () => publish(s, name));
}

async function publish(s: LocalForgeState, name: string): Promise<ForgeRepo> {
  const source = s.sources.get(name);
  const bare = barePath(s, name);
  if (!source) {
    if (existsSync(bare)) {
      const head = readHeadBranch(bare) ?? (await git(bare, ["symbolic-ref", "--short", "HEAD"]));
      return { name, remoteUrl: bare, defaultBranch: head };
    }
    throw new ForgeError(`local forge: no repository "${name}" (known: ${[...s.sources.keys()].join(", ")})`);
  }
  if (!existsSync(source.path)) {
    throw new ForgeError(
      `local forge: repository ${source.path} does not exist; fix the path in the routine's repos (relative to the project root) or remove the entry`,
    );
  }
  const { base, sha } = await sourceBranch(source.path, source.base);
  if (!sha) {
    throw new ForgeError(
      `local forge: ${source.path} has no commit on branch "${base}"; commit something first (git commit) or set repos[].base`,
    );
  }
  if (!existsSync(join(bare, "HEAD"))) {
    mkdirSync(bare, { recursive: true });
    await git(bare, ["init", "--quiet", "--bare", `--initial-branch=${base}`]);
  }
  // Publish the user's base branch (forced: the source is the truth for its own branch),
  // unless the forge already has that commit there, or is ahead of it: a pull request merged
  // on the forge (`pr merge`) that the user has not pulled yet is kept, never rewound.
  const published =
    readRefFile(bare, `refs/heads/${base}`) === sha
      ? sha
      : await gitMaybe(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${base}`]);
  if (published !== undefined && published !== sha && (await isAncestor(bare, sha, published))) {
    if (readFileSync(join(bare, "HEAD"), "utf8").trim() !== `ref: refs/heads/${base}`) {
      await git(bare, ["symbolic-ref", "HEAD", `refs/heads/${base}`]);
    }
    return { name, remoteUrl: bare, defaultBranch: base, defaultBranchSha: published };
  }
  if (published !== sha) {
    await git(bare, ["fetch", "--quiet", "--no-tags", source.path, `+refs/heads/${base}:refs/heads/${base}`]);
  }
  if (readFileSync(join(bare, "HEAD"), "utf8").trim() !== `ref: refs/heads/${base}`) {
    await git(bare, ["symbolic-ref", "HEAD", `refs/heads/${base}`]);
  }
  return { name, remoteUrl: bare, defaultBranch: base, defaultBranchSha: sha };
}

/** Whether commit `ancestor` is in the history of `of` in `gitDir` (false when it is not there at all). */
async function isAncestor(gitDir: string, ancestor: string, of: string): Promise<boolean> {
  return (await gitMaybe(gitDir, ["merge-base", "--is-ancestor", ancestor, of])) !== undefined;
}

/**
 * The source repository's base branch (`base`, else the branch its `HEAD` names, else `main`)
 * and that branch's commit, or no commit when it has none. Read from the repository's files
 * when they plainly say (src/util/git-refs.ts: no git process on the session-start path),
 * from git otherwise.
 */
async function sourceBranch(
  path: string,
  base: string | undefined,
): Promise<{ base: string; sha: string | undefined }> {
  const gitDir = plainGitDir(path);
  if (gitDir) {
    const branch = base ?? readHeadBranch(gitDir);
    const sha = branch === undefined ? undefined : readRefFile(gitDir, `refs/heads/${branch}`);
    if (branch !== undefined && sha !== undefined) return { base: branch, sha };
  }
  const branch = base ?? (await gitMaybe(path, ["symbolic-ref", "--short", "HEAD"])) ?? "main";
  const sha = await gitMaybe(path, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
  return { base: branch, sha };
}
