import { git } from "../../util/git.ts";

/**
 * git in a session's workspace, run by the runner (outside the agent): hooks are switched
 * off, because the agent could have written `.git/hooks/*` and the runner must never run them.
 */
export function workspaceGit(
  path: string,
  args: readonly string[],
  env?: Record<string, string>,
): Promise<string> {
  return git(
    path,
    ["-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", ...args],
    env ? { env } : {},
  );
}
