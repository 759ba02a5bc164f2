import { createHash } from "node:crypto";
import picomatch from "picomatch";
import { runnerGit, type RunnerRepo } from "../workspace/runner-git.ts";
import type { ResolvedEnvironment } from "../environment.ts";

/** A repository of the session's workspace, as the setup cache sees it. */
export interface SetupRepo {
  /** Folder name in the workspace (the forge name). */
  name: string;
  /** The clone. */
  path: string;
  /** The runner's own git dir for the clone: every git call of the setup step goes through it. */
  runner: RunnerRepo;
}

/** What keys a setup result, and the lockfiles that went into it. */
export interface SetupKey {
  /** sha256, hex. */
  hash: string;
  /** `repo/path` of every file that matched `setup_cache_files`. */
  lockfiles: string[];
}

/** Bump when the snapshot layout or what it holds changes, so old entries are not reused. */
const CACHE_FORMAT = 1;

/** JSON with object keys sorted, so equal values always give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The setup cache key of a session: sha256 over the environment's name and definition (variables
 * by their source, never their values — secrets do not key the cache), the setup script, the
 * repositories (names, in order), the platform, and the lockfiles: every file committed at each
 * clone's `HEAD` (the base commit, or the PR head when a session continues a PR) whose path
 * matches `setup_cache_files` — picomatch globs, a pattern without `/` matching the file name at
 * any depth — identified by path and git blob id (a hash of the content, so no file is read).
 *
 * @throws {GitError} when a clone cannot be listed.
 */
export async function setupKey(environment: ResolvedEnvironment, repos: SetupRepo[]): Promise<SetupKey> {
  const isLockfile = picomatch(environment.setupCacheFiles, { basename: true, dot: true });
  const lockfiles: string[] = [];
  const files: [string, string, string][] = [];
  for (const repo of repos) {
    const out = await runnerGit(repo.runner, ["ls-tree", "-r", "-z", "--full-tree", "HEAD"]);
    for (const entry of out.split("\0")) {
      const tab = entry.indexOf("\t");
      if (tab < 0) continue;
      const [, type, oid] = entry.slice(0, tab).split(" ");
      const path = entry.slice(tab + 1);
      if (type !== "blob" || !isLockfile(path)) continue;
      files.push([repo.name, path, oid!]);
      lockfiles.push(`${repo.name}/${path}`);
    }
  }
  const hash = createHash("sha256")
    .update(
      canonical({
        format: CACHE_FORMAT,
        platform: `${process.platform}-${process.arch}`,
        environment: environment.name,
        definition: environment.definition,
        setup: environment.setup ?? "",
        cacheFiles: environment.setupCacheFiles,
        repos: repos.map((r) => r.name),
        files,
      }),
    )
    .digest("hex");
  return { hash, lockfiles };
}
