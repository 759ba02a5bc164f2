import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { git } from "../../util/git.ts";
import { readRefFile } from "../../util/git-refs.ts";
import { serialised } from "../../util/serialised.ts";

/** Moved to src/util/git-refs.ts (the local forge reads refs the same way); re-exported here. */
export { readRefFile } from "../../util/git-refs.ts";

/**
 * Makes the bare mirror of `remoteUrl` at `<mirrorsDir>/<name>.git` current: a
 * `git clone --mirror` the first time, a `git fetch --prune` after that. Sessions clone with
 * `--reference` to it, so only new objects cross the network.
 *
 * @returns the mirror's path.
 * @throws {GitError} when the remote cannot be read.
 */
export function updateMirror(
  mirrorsDir: string,
  name: string,
  remoteUrl: string,
  expected?: { ref: string; sha: string },
  /** Extra git environment (a forge's credentials, as `GIT_CONFIG_*` variables). */
  env?: Record<string, string>,
): Promise<string> {
  const o = env ? { env } : {};
  const path = join(mirrorsDir, `${name}.git`);
  return serialised(path, async () => {
    if (!existsSync(join(path, "HEAD"))) {
      mkdirSync(dirname(path), { recursive: true });
      await git(mirrorsDir, ["clone", "--quiet", "--mirror", remoteUrl, path], o);
      return path;
    }
    if (expected) {
      // Read from the files first (no git process on the session-start path); git decides
      // whenever the files do not plainly say the ref is already there.
      if (readRefFile(path, expected.ref) === expected.sha) return path;
      const have = await git(path, ["rev-parse", "--verify", "--quiet", expected.ref]).catch(() => "");
      if (have === expected.sha) return path;
    }
    const current = await git(path, ["config", "--get", "remote.origin.url"]).catch(() => "");
    if (current !== remoteUrl) await git(path, ["remote", "set-url", "origin", remoteUrl]);
    await git(path, ["fetch", "--quiet", "--prune", "origin"], o);
    return path;
  });
}
