import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { loadProjectConfig, PROJECT_DIR } from "../../config/load.ts";
import { gitMaybe } from "../../util/git.ts";
import { CliError, workDir } from "../context.ts";
import { dequeConfig, dequeRoutines, dequeSetupProblem, guessTestCommand } from "./init-deque.ts";

export const EXAMPLE_ROUTINE = `---
# A nightshift routine: settings in this YAML block, the agent's instructions below it.
# Full reference: "Routine files" in nightshift's README.
description: Find one small, safe improvement and propose it as a draft pull request
agent: claude-code            # claude-code | codex | command
# model: claude-sonnet-4-5    # omitted: the agent CLI's default (the session summary names it)
repos: ["."]                  # "." is this repository; other local repositories by path
triggers: []                  # fired by \`nightshift serve\`, e.g.:
#  - schedule: daily          # hourly | daily | weekdays | weekly | a 5-field cron
#    at: "03:00"
#    timezone: Europe/Berlin
branch_prefix: nightshift/    # the only branches this routine may push to
timeout: 30m                  # the agent and its children are stopped after this
max_turns: 40
# allowed_tools: [Bash, Edit, Read, Write, Glob, Grep]
environment: default
enabled: true
---
Read the README and skim the code of this repository. Find one small, clearly safe
improvement: a typo in the docs, a misleading comment, a missing test for an edge case.
Make that one change, run the project's tests if it has any, and finish with a short
summary of what you changed and why. If you find nothing worth changing, change nothing.
`;

export const EXAMPLE_CONFIG = `# nightshift project settings. Every field is optional.
# state_dir: .nightshift/state      # store (SQLite), mirrors, session workspaces, local forge
# forge:
#   type: local                     # the embedded forge: bare repositories on disk
# workspaces:
#   retention: 7d                   # remove finished sessions' workspaces after this
# git:
#   author_name: nightshift         # identity of the runner's commits
#   author_email: nightshift@localhost
# base_url: http://127.0.0.1:7070   # where \`nightshift serve\` runs, for transcript links
`;

/**
 * Adds the deque workflow: its six routines (existing files are kept unless `force`) and a
 * `deque:` block in config.yaml allowlisting `author` (added once).
 */
export function scaffoldDeque(dir: string, author: string, force = false): string[] {
  const base = join(dir, PROJECT_DIR);
  const written: string[] = [];
  for (const [name, text] of Object.entries(dequeRoutines(guessTestCommand(dir)))) {
    const file = join(base, "routines", `${name}.md`);
    if (existsSync(file) && !force) continue;
    writeFileSync(file, text);
    written.push(file);
  }
  const config = join(base, "config.yaml");
  if (!/^deque:/m.test(readFileSync(config, "utf8"))) {
    appendFileSync(config, dequeConfig(author));
    written.push(`${config} (deque: block)`);
  }
  return written;
}

/** Creates `.nightshift/` with a config, an example routine and a .gitignore for the state. */
export function scaffold(dir: string, force = false): string[] {
  const base = join(dir, PROJECT_DIR);
  const files: [string, string][] = [
    [join(base, "config.yaml"), EXAMPLE_CONFIG],
    [join(base, "routines", "example.md"), EXAMPLE_ROUTINE],
    [join(base, ".gitignore"), "# session state: store, mirrors, workspaces, local forge\nstate/\n"],
  ];
  const written: string[] = [];
  mkdirSync(join(base, "routines"), { recursive: true });
  for (const [file, text] of files) {
    if (existsSync(file) && !force) continue;
    writeFileSync(file, text);
    written.push(file);
  }
  return written;
}

/** {@link dequeSetupProblem} for the project in `dir`; nothing when its config does not load. */
function dequeSetupWarning(dir: string): string | undefined {
  try {
    return dequeSetupProblem(loadProjectConfig(dir), guessTestCommand(dir));
  } catch {
    return undefined; // `nightshift routines validate` reports a broken config
  }
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("scaffold .nightshift/ (config, example routine) in the current repository")
    .option("--force", "overwrite files that exist")
    .option(
      "--workflow <name>",
      "also scaffold a workflow: `deque` (issue agents, PR agents with the judge, architecture agent, guard)",
    )
    .option("--author <login>", "who may write issues and reviews agents act on (deque.allowed_authors)")
    .action(async (opts: { force?: boolean; workflow?: string; author?: string }, cmd: Command) => {
      if (opts.workflow !== undefined && opts.workflow !== "deque")
        throw new CliError(`unknown workflow "${opts.workflow}"; the one workflow is "deque"`);
      const dir = workDir(cmd);
      if (!(await gitMaybe(dir, ["rev-parse", "--show-toplevel"]))) {
        throw new CliError(
          `${dir} is not a git repository; nightshift works on git repositories (git init, then commit)`,
        );
      }
      const written = scaffold(dir, opts.force);
      if (opts.workflow === "deque")
        written.push(...scaffoldDeque(dir, opts.author ?? userInfo().username, opts.force));
      for (const f of written) console.log(`created ${f}`);
      const unprepared = opts.workflow === "deque" ? dequeSetupWarning(dir) : undefined;
      if (unprepared) console.error(`warning: ${unprepared}`);
      if (written.length === 0)
        console.log(`${join(dir, PROJECT_DIR)} already exists (use --force to overwrite)`);
      console.log(
        opts.workflow === "deque"
          ? "\nnext: check deque.allowed_authors in .nightshift/config.yaml, write an issue (nightshift issue create), then `nightshift run issue-oldest`; `nightshift serve` runs them all on schedule"
          : "\nnext: edit .nightshift/routines/example.md, then `nightshift run example`",
      );
    });
}
