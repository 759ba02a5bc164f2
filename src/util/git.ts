import { execFile } from "node:child_process";

/** A git command that failed, with the command line and git's own message. */
export class GitError extends Error {
  override name = "GitError";
  readonly args: readonly string[];
  readonly stderr: string;
  readonly exitCode: number | undefined;

  constructor(args: readonly string[], cwd: string, stderr: string, exitCode: number | undefined) {
    super(
      `git ${args.join(" ")} failed in ${cwd} (exit ${exitCode ?? "?"}): ${stderr.trim() || "no output"}`,
    );
    this.args = args;
    this.stderr = stderr;
    this.exitCode = exitCode;
  }
}

/** Environment for every git call: no prompts, no pager, no system config, stable messages. */
const GIT_ENV = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_PAGER: "cat",
  GIT_CONFIG_NOSYSTEM: "1",
  LC_ALL: "C",
};

const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Runs `git <args>` in `cwd` with stdin closed and returns its stdout without the final
 * newline. (Node's `execFile` rather than a wrapper library: git runs on the session-start
 * path, where every millisecond of module loading shows.)
 *
 * @throws {GitError} when git exits non-zero or cannot be started.
 */
export function git(
  cwd: string,
  args: readonly string[],
  opts: { env?: Record<string, string> } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        env: { ...process.env, ...GIT_ENV, ...opts.env },
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === "number" ? err.code : undefined;
          reject(new GitError(args, cwd, stderr || err.message, code));
        } else resolve(stdout.replace(/\r?\n$/, ""));
      },
    );
    child.stdin?.end();
  });
}

/** Like {@link git} but returns `undefined` instead of throwing. */
export async function gitMaybe(cwd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    return await git(cwd, args);
  } catch (err) {
    if (err instanceof GitError) return undefined;
    throw err;
  }
}
