import { execa } from "execa";

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

/** Environment for every git call: no prompts, no pager, no user hooks from templates. */
const GIT_ENV = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_PAGER: "cat",
  GIT_CONFIG_NOSYSTEM: "1",
  LC_ALL: "C",
};

/**
 * Runs `git <args>` in `cwd` and returns its trimmed stdout.
 * @throws {GitError} when git exits non-zero.
 */
export async function git(
  cwd: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<string> {
  const r = await execa("git", args, {
    cwd,
    env: { ...GIT_ENV, ...opts.env },
    reject: false,
    stripFinalNewline: true,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" }),
  });
  if (r.exitCode !== 0) throw new GitError(args, cwd, String(r.stderr), r.exitCode);
  return String(r.stdout);
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
