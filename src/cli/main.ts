import type { Command } from "commander";
import pc from "picocolors";

/** What `nightshift --version` prints. */
const VERSION = "0.1.0";

/** Registers one top-level command (and its subcommands) on the program. */
type Register = (program: Command) => void;

/**
 * Every top-level command, in help order, with the module that registers it. Modules are
 * imported on demand so a command loads only what it uses (and `--version` almost nothing).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ["init", async () => (await import("./commands/init.ts")).registerInit],
  ["quickstart", async () => (await import("./commands/quickstart.ts")).registerQuickstart],
  ["run", async () => (await import("./commands/run.ts")).registerRun],
  ["reply", async () => (await import("./commands/reply.ts")).registerReply],
  ["dispatch", async () => (await import("./commands/dispatch.ts")).registerDispatch],
  ["routines", async () => (await import("./commands/routines.ts")).registerRoutines],
  ["sessions", async () => (await import("./commands/sessions.ts")).registerSessions],
  ["agents", async () => (await import("./commands/agents.ts")).registerAgents],
  ["logs", async () => (await import("./commands/logs.ts")).registerLogs],
  ["issue", async () => (await import("./commands/issue.ts")).registerIssue],
  ["pr", async () => (await import("./commands/pr.ts")).registerPr],
  ["serve", async () => (await import("./commands/serve.ts")).registerServe],
  ["dashboard", async () => (await import("./commands/dashboard.ts")).registerDashboard],
  ["fire", async () => (await import("./commands/fire.ts")).registerFire],
  ["runs", async () => (await import("./commands/runs.ts")).registerRuns],
  ["tokens", async () => (await import("./commands/tokens.ts")).registerTokens],
  ["schedule", async () => (await import("./commands/schedule.ts")).registerSchedule],
  ["guard", async () => (await import("./commands/guard.ts")).registerGuard],
  ["export", async () => (await import("./commands/export.ts")).registerExport],
];

/**
 * Which commands `argv` needs registered: none for a bare `--version`, the one it names when
 * that is a known command, else all of them (help, no command, an unknown one — so help
 * texts and suggestions are those of the whole tree).
 */
export function commandsFor(argv: readonly string[]): string[] {
  const all = COMMANDS.map(([name]) => name);
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-C" || a === "--project") {
      i++; // its value
      continue;
    }
    if (a === "-V" || a === "--version") return [];
    if (a === "--" || a === "-h" || a === "--help") return all;
    if (a.startsWith("--project=") || (a.startsWith("-C") && a.length > 2)) continue;
    if (a.startsWith("-")) return all;
    return all.includes(a) ? [a] : all;
  }
  return all;
}

/** Builds the `nightshift` command tree with the commands named (default: all of them). */
export async function buildProgram(names: readonly string[] = COMMANDS.map(([n]) => n)): Promise<Command> {
  const { Command } = await import("commander");
  const program = new Command("nightshift")
    .description(
      "background coding agents: routines that run Claude Code, Codex or any command and deliver draft pull requests",
    )
    .version(VERSION)
    .option("-C, --project <dir>", "run as if started in <dir>")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const wanted = COMMANDS.filter(([name]) => names.includes(name));
  const registers = await Promise.all(wanted.map(([, load]) => load()));
  for (const register of registers) register(program);
  return program;
}

/** Runs the CLI; maps errors to messages and exit codes (2 for bad input, 1 otherwise). */
export async function main(argv: string[]): Promise<void> {
  const names = commandsFor(argv);
  if (names.length === 0) {
    // `--version` before any command: what commander prints, without loading it.
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  try {
    await dispatch(argv, names);
  } finally {
    // The sandbox keeps a proxy server open; stop it so the command can exit.
    const { resetSandbox } = await import("../runner/sandbox/wrap.ts");
    await resetSandbox();
  }
}

async function dispatch(argv: string[], names: readonly string[]): Promise<void> {
  try {
    await (await buildProgram(names)).parseAsync(argv);
  } catch (err) {
    const { CommanderError } = await import("commander");
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    // Loaded only now: a command that can throw these has loaded their modules already.
    const [
      { ConfigErrors, RoutineNotFoundError },
      { IssueImportError },
      { ForgeError },
      { CliError },
      { ScheduleError },
      { describeError },
    ] = await Promise.all([
      import("../config/errors.ts"),
      import("../forge/local/import-gh-issues.ts"),
      import("../forge/types.ts"),
      import("./context.ts"),
      import("../scheduler/errors.ts"),
      import("../util/errors.ts"),
    ]);
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
      console.error(pc.red(`nightshift: ${describeError(err)}`));
      process.exitCode = err instanceof CliError ? err.exitCode : 2;
      return;
    }
    // An unexpected error: its stack, then what it wraps (`cause`), for a bug report.
    const causes =
      err instanceof Error && err.cause !== undefined ? `\ncaused by: ${describeError(err.cause)}` : "";
    console.error(
      pc.red(`nightshift: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${causes}`),
    );
    process.exitCode = 1;
  }
}

await main(process.argv);
