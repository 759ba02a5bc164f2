import { basename, isAbsolute, resolve } from "node:path";
import type { RepoRef } from "../config/routine-schema.ts";

/** A repository a session works on, resolved to a folder on disk. */
export interface ResolvedRepo {
  /** Name on the forge and folder name in the workspace. */
  name: string;
  /** The user's repository. */
  path: string;
  base?: string;
}

/** A forge-friendly name for a folder: lowercase letters, digits, `.`, `-` and `_`. */
export function repoNameFor(path: string): string {
  return (
    basename(resolve(path))
      .replace(/\.git$/, "")
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[-.]+|-+$/g, "") || "repo"
  );
}

/**
 * Resolves a routine's `repos` against the project root (`.` is the project's own
 * repository, named `selfName` on the forge when given — GitHub's `owner/name`).
 */
export function resolveRepos(root: string, refs: readonly RepoRef[], selfName?: string): ResolvedRepo[] {
  const absRoot = resolve(root);
  return refs.map((ref) => {
    const r = typeof ref === "string" ? { path: ref } : ref;
    const path = isAbsolute(r.path) ? r.path : resolve(root, r.path);
    const name = r.name ?? (selfName && path === absRoot ? selfName : repoNameFor(path));
    return { name, path, ...(r.base ? { base: r.base } : {}) };
  });
}
