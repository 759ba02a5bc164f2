import { git } from "../../util/git.ts";

/** A fresh clone for one session, on its own branch. */
export interface SessionClone {
  path: string;
  /** The commit the session starts from (tip of the base branch). */
  baseSha: string;
  branch: string;
}

/** Value of `remote.origin.pushurl` in workspaces: the agent cannot push; the runner pushes from outside. */
export const NO_PUSH_URL = "nightshift-pushes-for-the-agent.invalid:/refuse";

/**
 * Clones the (current) `mirror` into `dest` — a local `--shared` clone borrowing its objects:
 * no network, no credentials —
 * points `origin` at `remoteUrl`, checks out `base` and creates `branch` on it (or checks out
 * the existing `branch`). The clone's push URL is a dead end, so a `git push` by the agent
 * fails; delivery pushes from outside with an explicit URL.
 *
 * @throws {GitError} when the base branch does not exist or git fails.
 */
export async function cloneWorkspace(opts: {
  mirror: string;
  remoteUrl: string;
  dest: string;
  base: string;
  /** The base's commit, when already known (saves a git call). */
  baseSha?: string;
  branch: string;
  /** Check out `branch` as it is on the remote (continuing a pull request) instead of creating it on `base`. */
  existingBranch?: boolean;
}): Promise<SessionClone> {
  await git(process.cwd(), [
    "clone",
    "--quiet",
    "-c",
    `remote.origin.pushurl=${NO_PUSH_URL}`,
    // Borrow the mirror's objects (an alternates file) instead of copying them.
    "--shared",
    "--branch",
    opts.existingBranch ? opts.branch : opts.base,
    "--",
    opts.mirror,
    opts.dest,
  ]);
  await git(opts.dest, ["remote", "set-url", "origin", opts.remoteUrl]);
  if (opts.existingBranch) {
    // The session starts from the branch's tip: its own changes are measured from there.
    return { path: opts.dest, baseSha: await git(opts.dest, ["rev-parse", "HEAD"]), branch: opts.branch };
  }
  await git(opts.dest, ["switch", "--quiet", "-c", opts.branch]);
  const baseSha = opts.baseSha ?? (await git(opts.dest, ["rev-parse", "HEAD"]));
  return { path: opts.dest, baseSha, branch: opts.branch };
}
