import { resolve } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { findProjectRoot } from "../config/load.ts";
import { openProject, type Project } from "../project.ts";

/** An error the CLI reports as one message and exit code (2: bad input; 1: the work failed). */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  /** @param options `{ cause }`: the error this one reports, kept for the cause chain. */
  constructor(message: string, exitCode = 2, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** The folder the command works in: `-C <dir>` or the current directory. */
export function workDir(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as { project?: string };
  return resolve(opts.project ?? process.cwd());
}

/**
 * Opens the nightshift project around the working folder, runs `fn`, and closes it.
 * @throws {CliError} when there is no `.nightshift/` folder here or above.
 */
export async function withProject<T>(cmd: Command, fn: (p: Project) => Promise<T>): Promise<T> {
  const dir = workDir(cmd);
  const root = findProjectRoot(dir);
  if (!root)
    throw new CliError(
      `${dir} is not in a nightshift project (no .nightshift/ folder here or above); run \`nightshift init\` first`,
    );
  const project = await openProject(root);
  try {
    return await fn(project);
  } finally {
    await project.close();
  }
}

/** Parses a positive integer argument such as an issue number. */
export function positiveInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new CliError(`${what} must be a positive whole number, got "${value}"`);
    return n;
  };
}

/** Prints JSON for scripts. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The forge repository a command names with `--repo`, else the project's own. */
export function repoOption(cmd: Command, fallback: string): string {
  return (cmd.opts() as { repo?: string }).repo ?? fallback;
}

/**
 * Runs `fn` with a signal that Ctrl-C (SIGINT) and SIGTERM abort (the agent's process group is
 * stopped), saying so on stderr unless `--json`.
 */
export async function cancellable<T>(
  json: boolean | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const onSignal = () => {
    if (!json) console.error(pc.yellow("\ncancelling: stopping the agent…"));
    abort.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await fn(abort.signal);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
