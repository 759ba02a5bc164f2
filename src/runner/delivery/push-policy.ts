import picomatch from "picomatch";

/**
 * Whether the runner may push to `branch` for a routine whose `branch_prefix` is `prefix`.
 * Only branches strictly under the prefix are allowed: never `main`, never a branch of
 * another routine's prefix, never the bare prefix itself. This is enforced at push time,
 * whatever the prompt said.
 *
 * @returns `undefined` when allowed, else the reason for refusing.
 */
export function pushRefusal(branch: string, prefix: string): string | undefined {
  if (!branch.startsWith(prefix) || branch.length === prefix.length) {
    return `branch "${branch}" is outside the routine's branch prefix "${prefix}"; nightshift pushes only to branches under it`;
  }
  if (
    branch.includes("..") ||
    /[\s~^:?*[\\]/.test(branch) ||
    branch.endsWith(".lock") ||
    branch.endsWith("/")
  ) {
    return `branch "${branch}" is not a valid git branch name`;
  }
  return undefined;
}

/**
 * The changed paths a push may not carry: those matching a protected glob
 * (`protected_paths` in `.nightshift/config.yaml`: `.nightshift/**` always, and by default
 * `.github/workflows/**` and `.ci/**`). Matching is picomatch with dotfiles included and case
 * ignored (`.NightShift/config.yaml` is `.nightshift/config.yaml` on a case-insensitive
 * file system), on repository-relative paths.
 *
 * @returns the offending paths (empty when the push is allowed).
 */
export function protectedPathsTouched(paths: string[], globs: string[]): string[] {
  if (globs.length === 0) return [];
  const isProtected = picomatch(globs, { dot: true, nocase: true });
  return paths.filter((p) => isProtected(p));
}
