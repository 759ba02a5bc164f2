import { Command, CommanderError } from "commander";
import pc from "picocolors";
import { ConfigErrors, RoutineNotFoundError } from "../config/errors.ts";
import { IssueImportError } from "../forge/local/import-gh-issues.ts";
import { ForgeError } from "../forge/types.ts";
import { registerInit } from "./commands/init.ts";
import { registerIssue } from "./commands/issue.ts";
import { registerLogs } from "./commands/logs.ts";
import { registerPr } from "./commands/pr.ts";
import { registerQuickstart } from "./commands/quickstart.ts";
import { registerRoutines } from "./commands/routines.ts";
import { registerRun } from "./commands/run.ts";
import { registerSchedule } from "./commands/schedule.ts";
import { registerServe } from "./commands/serve.ts";
import { registerTokens } from "./commands/tokens.ts";
import { registerFire } from "./commands/fire.ts";
import { registerGuard } from "./commands/guard.ts";
import { registerSessions } from "./commands/sessions.ts";
import { registerExport } from "./commands/export.ts";
import { registerRuns } from "./commands/runs.ts";
import { CliError } from "./context.ts";
import { resetSandbox } from "../runner/sandbox/wrap.ts";
import { ScheduleError } from "../scheduler/errors.ts";

/** Builds the `nightshift` command tree. */
export function buildProgram(): Command {
  const program = new Command("nightshift")
    .description(
      "background coding agents: routines that run Claude Code, Codex or any command and deliver draft pull requests",
    )
    .version("0.1.0")
    .option("-C, --project <dir>", "run as if started in <dir>")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerInit(program);
  registerQuickstart(program);
  registerRun(program);
  registerRoutines(program);
  registerSessions(program);
  registerLogs(program);
  registerIssue(program);
  registerPr(program);
  registerServe(program);
  registerFire(program);
  registerRuns(program);
  registerTokens(program);
  registerSchedule(program);
  registerGuard(program);
  registerExport(program);
  return program;
}

/** Runs the CLI; maps errors to messages and exit codes (2 for bad input, 1 otherwise). */
export async function main(argv: string[]): Promise<void> {
  try {
    await dispatch(argv);
  } finally {
    // The sandbox keeps a proxy server open; stop it so the command can exit.
    await resetSandbox();
  }
}

async function dispatch(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof ConfigErrors) {
      for (const e of err.errors) console.error(pc.red(e.message));
      process.exitCode = 2;
      return;
    }
    if (
      err instanceof ScheduleError ||
      err instanceof CliError ||
      err instanceof ForgeError ||
      err instanceof IssueImportError ||
      err instanceof RoutineNotFoundError
    ) {
      console.error(pc.red(`nightshift: ${err.message}`));
      process.exitCode = err instanceof CliError ? err.exitCode : 2;
      return;
    }
    console.error(pc.red(`nightshift: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    process.exitCode = 1;
  }
}

await main(process.argv);
