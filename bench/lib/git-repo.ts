import { execFileSync } from "node:child_process";

/** `git init` + one commit of `paths` in `dir`, with a fixed identity (no user config needed). */
export function commitRepo(dir: string, paths: string[] = ["-A"]): void {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "bench",
    GIT_AUTHOR_EMAIL: "bench@example.invalid",
    GIT_COMMITTER_NAME: "bench",
    GIT_COMMITTER_EMAIL: "bench@example.invalid",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  for (const argv of [
    ["init", "--quiet", "--initial-branch=main"],
    ["add", ...paths],
    ["commit", "--quiet", "-m", "bench project"],
  ])
    execFileSync("git", argv, { cwd: dir, env, stdio: "ignore" });
}
