import { git } from "../../util/git.ts";
import { adoptCloneIndex, initRunnerGitDir, type RunnerRepo } from "./runner-git.ts";

/** A fresh clone for one session, on its own branch. */
export interface SessionClone {
  path: string;
  /** The runner's own git dir for this workspace (see runner-git.ts); the agent never sees it. */
  runner: RunnerRepo;
  /** The commit the session starts from (tip of the base branch). */
  baseSha: string;
  branch: string;
}

/** Value of `remote.origin.pushurl` in workspaces: the agent cannot push; the runner pushes from outside. */
export const NO_PUSH_URL = "nightshift-pushes-for-the-agent.invalid:/refuse";

/**
 * Clones the (current) `mirror` into `dest` — a local `--shared` clone borrowing its objects:
 * no network, no credentials — with only the branch it needs (`base`, or a pull request's head
 * plus `origin/<base>`; no tags, no other branch), points `origin` at `remoteUrl`, checks out
 * `base` and creates `branch` on it (or checks out the existing `branch`). The clone's push URL
 * is a dead end, so a `git push` by the agent fails; delivery pushes from outside with an
 * explicit URL. The runner's own git dir for the workspace is made at `runnerGitDir`.
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
  /** Where to make the runner's own git dir (outside everything the agent can reach). */
  runnerGitDir: string;
}): Promise<SessionClone> {
  const runnerDir = (headSha: string) =>
    initRunnerGitDir({
      gitDir: opts.runnerGitDir,
      workTree: opts.dest,
      mirror: opts.mirror,
      branch: opts.branch,
      headSha,
    });
  const clone = settled(
    git(process.cwd(), [
      "clone",
      "--quiet",
      "-c",
      `remote.origin.pushurl=${NO_PUSH_URL}`,
      // Borrow the mirror's objects (an alternates file) instead of copying them.
      "--shared",
      "--single-branch",
      "--no-tags",
      "--branch",
      opts.existingBranch ? opts.branch : opts.base,
      "--",
      opts.mirror,
      opts.dest,
    ]),
  );
  // With the start commit known, the runner's git dir (which needs nothing of the clone but
  // its index, copied below) is made while the clone checks out its files. Started second:
  // starting a process blocks, and the clone is the long pole.
  const early =
    !opts.existingBranch && opts.baseSha !== undefined ? settled(runnerDir(opts.baseSha)) : undefined;
  const cloned = await clone;
  if (!cloned.ok) {
    await early; // never left running behind a failure
    throw cloned.error;
  }
  if (opts.existingBranch && opts.base !== opts.branch) {
    // A pull request's agent may merge its base: give it `origin/<base>` too.
    await git(opts.dest, [
      "fetch",
      "--quiet",
      "--no-tags",
      "origin",
      `+refs/heads/${opts.base}:refs/remotes/origin/${opts.base}`,
    ]);
  }
  let baseSha: string;
  let runner: RunnerRepo;
  if (early) {
    baseSha = opts.baseSha!;
    runner = unwrap(await early);
  } else {
    // The session starts from the checked-out tip (a pull request's branch: its own changes
    // are measured from there).
    baseSha = await git(opts.dest, ["rev-parse", "HEAD"]);
    runner = await runnerDir(baseSha);
  }
  // The index the clone wrote, taken before anything else touches the workspace.
  await adoptCloneIndex(runner);
  // Independent: one writes .git/config, the other the branch ref and HEAD.
  const done = await Promise.allSettled([
    git(opts.dest, ["remote", "set-url", "origin", opts.remoteUrl]),
    opts.existingBranch ? undefined : git(opts.dest, ["switch", "--quiet", "-c", opts.branch]),
  ]);
  for (const d of done) if (d.status === "rejected") throw d.reason;
  return { path: opts.dest, runner, baseSha, branch: opts.branch };
}

/** A promise's outcome, without an unhandled rejection while it waits to be looked at. */
function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (r.ok) return r.value;
  throw r.error;
}
