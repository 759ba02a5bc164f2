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
