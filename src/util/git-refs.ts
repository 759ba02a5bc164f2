/**
 * Reading a repository's refs from its files, as git keeps them, so the session-start path
 * needs no git process for the answers the files plainly give. Every function here returns
 * `undefined` whenever the files do not plainly say (a missing ref, a symbolic ref, another
 * ref storage such as reftable, a linked worktree, anything unusual): the caller then asks git.
 */
import { lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";

const HEX_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_REF_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Whether `ref` is a `refs/heads/…` name git itself accepts (the rules of
 * `git check-ref-format`): no part empty, starting with `.` or ending with `.lock` (so it stays
 * inside the git dir), no `..`, `@{`, control characters, space or `~^:?*[\`, no final `.`.
 * Anything else is left to git.
 */
function isBranchRef(ref: string): boolean {
  if (!ref.startsWith("refs/heads/") || ref.endsWith(".") || ref.includes("..") || ref.includes("@{"))
    return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return false;
  return !ref.split("/").some((p) => p === "" || p.startsWith(".") || p.endsWith(".lock"));
}

/**
 * The commit id a `refs/heads/…` ref of the repository whose git dir is `gitDir` has, read
 * from its files (a loose ref file, else a `packed-refs` line), or `undefined` when they do not
 * plainly say. A loose file wins over `packed-refs`, as in git.
 *
 * @param gitDir a bare repository, or a working tree's `.git` folder.
 * @param ref a full branch ref name such as `refs/heads/main`; anything else gives `undefined`.
 */
export function readRefFile(gitDir: string, ref: string): string | undefined {
  if (!isBranchRef(ref)) return undefined;
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

/**
 * The branch `HEAD` of the repository whose git dir is `gitDir` points at (`main` for
 * `ref: refs/heads/main`), read from its `HEAD` file, or `undefined` when the file does not
 * plainly name a branch (a detached HEAD, a linked worktree, reftable's placeholder, anything
 * unusual). The branch may be unborn: pair it with {@link readRefFile} before trusting it.
 */
export function readHeadBranch(gitDir: string): string | undefined {
  try {
    const path = join(gitDir, "HEAD");
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isFile() || st.size > 1024) return undefined;
    const m = /^ref: (refs\/heads\/\S+)$/.exec(readFileSync(path, "utf8").trim());
    if (!m || !isBranchRef(m[1]!)) return undefined;
    return m[1]!.slice("refs/heads/".length);
  } catch {
    return undefined;
  }
}

/**
 * The git dir of the working tree or bare repository at `path`, when it is one plainly: its
 * `.git` folder (not a `.git` file, as linked worktrees and submodules have), or `path` itself
 * when it holds `HEAD`, `objects` and `refs` (a bare repository). `undefined` otherwise.
 */
export function plainGitDir(path: string): string | undefined {
  try {
    const dotGit = join(path, ".git");
    const st = lstatSync(dotGit, { throwIfNoEntry: false });
    if (st) return st.isDirectory() ? dotGit : undefined;
    const isBare = ["HEAD", "objects", "refs"].every((f) =>
      lstatSync(join(path, f), { throwIfNoEntry: false }),
    );
    return isBare ? path : undefined;
  } catch {
    return undefined;
  }
}
