import { existsSync, lstatSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { git } from "../../util/git.ts";
import { serialised } from "../../util/serialised.ts";

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

const HEX_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_REF_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The commit id a `refs/heads/…` ref of the (runner-owned) bare repository at `gitDir` has, read
 * from its files as git keeps them (a loose ref file, else a `packed-refs` line), or
 * `undefined` when they do not plainly say (no such ref, a symbolic ref, another ref storage
 * such as reftable, anything unusual): the caller then asks git. A loose file wins over
 * `packed-refs`, as in git.
 */
export function readRefFile(gitDir: string, ref: string): string | undefined {
  if (!/^refs\/heads\/[^\0]+$/.test(ref) || ref.split("/").some((p) => p === "" || p === "." || p === ".."))
    return undefined;
  try {
    const loose = join(gitDir, ...ref.split("/"));
    const st = lstatSync(loose, { throwIfNoEntry: false });
    if (st) {
      if (!st.isFile() || st.size > 100) return undefined;
      const sha = readFileSync(loose, "utf8").trim();
      return HEX_ID.test(sha) ? sha : undefined;
    }
    const packedPath = join(gitDir, "packed-refs");
    const pst = lstatSync(packedPath, { throwIfNoEntry: false });
    if (!pst?.isFile() || pst.size > MAX_REF_FILE_BYTES) return undefined;
    for (const line of readFileSync(packedPath, "utf8").split("\n")) {
      const space = line.indexOf(" ");
      if (space > 0 && line.slice(space + 1) === ref) {
        const sha = line.slice(0, space);
        return HEX_ID.test(sha) ? sha : undefined;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
