import { existsSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../config/errors.ts";
import { routineLocator } from "../config/load.ts";
import type { RepoRef, Routine } from "../config/routine-schema.ts";

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

/** Why a repository folder cannot be used, if it cannot: it does not exist, is not a folder, or is not a git repository. */
export function repoPathProblem(path: string): string | undefined {
  if (!existsSync(path)) return `${path} does not exist`;
  if (!statSync(path).isDirectory()) return `${path} is not a folder`;
  // A work tree has .git (a folder, or a file for worktrees and submodules); a bare repository has HEAD and objects/.
  if (
    !existsSync(join(path, ".git")) &&
    !(existsSync(join(path, "HEAD")) && existsSync(join(path, "objects")))
  )
    return `${path} is not a git repository`;
  return undefined;
}

/**
 * Checks a routine's `repos` against the disk: each path must be an existing git repository,
 * and no two entries may be the same folder or get the same name (the name is the folder in the
 * workspace and the repository on the forge).
 *
 * @param selfName - the forge name of the project's own repository (see {@link resolveRepos}).
 * @returns one located error per problem (`file:line:column: repos.N: …`), or none.
 */
export function checkRoutineRepos(root: string, routine: Routine, selfName?: string): ConfigError[] {
  const resolved = resolveRepos(root, routine.repos, selfName);
  const errors: ConfigError[] = [];
  let where: ReturnType<typeof routineLocator> | undefined;
  const error = (i: number, detail: string) => {
    where ??= routineLocator(routine);
    const { line, column } = where.locate(["repos", i]);
    errors.push(new ConfigError(where.shown, line, column, `repos.${i}`, detail));
  };
  const byPath = new Map<string, number>();
  const byName = new Map<string, number>();
  for (const [i, repo] of resolved.entries()) {
    const problem = repoPathProblem(repo.path);
    if (problem) {
      error(
        i,
        `${problem}; a repository path is relative to the project root (${resolve(root)}) or absolute: fix the path or remove the entry`,
      );
      continue;
    }
    const samePath = byPath.get(repo.path);
    const sameName = byName.get(repo.name);
    if (samePath !== undefined) {
      error(i, `is the same repository as repos.${samePath} (${repo.path}): list each repository once`);
    } else if (sameName !== undefined) {
      error(
        i,
        `gets the name "${repo.name}", like repos.${sameName}: give one of them another name with {name, path}`,
      );
    }
    byPath.set(repo.path, i);
    byName.set(repo.name, i);
  }
  return errors;
}
