import type { Command } from "commander";
import { loadRoutines } from "../../config/load.ts";
import { resolveRepos } from "../../runner/repos.ts";
import { formatGuardReport } from "../../deque/guard/report.ts";
import { runGuard } from "../../deque/guard/run.ts";
import { printJson, withProject } from "../context.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerGuard(program: Command): void {
  program
    .command("guard")
    .description(
      "one guard pass: demote ready pull requests that conflict or fail checks to draft, update branches that are behind",
    )
    .option("--dry-run", "decide and report, change nothing")
    .option(
      "--repo <name>",
      "repository on the forge; repeat for more (default: the project's and its routines')",
      collect,
    )
    .option("--ignore-check <glob...>", "never demote for checks whose name matches (picomatch, * crosses /)")
    .option("--required-only", "consider only the checks branch protection requires")
    .option("--json", "print the report as JSON")
    .action(
      async (
        opts: {
          dryRun?: boolean;
          repo?: string[];
          ignoreCheck?: string[];
          requiredOnly?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withProject(cmd, async (p) => {
          const repos = opts.repo ?? projectRepos(p.root, p.repoName);
          const report = await runGuard(p.forge, {
            repos,
            clock: p.clock,
            options: {
              ignore_checks: opts.ignoreCheck ?? [],
              required_checks_only: opts.requiredOnly ?? false,
              dry_run: opts.dryRun ?? false,
            },
          });
          if (opts.json) printJson(report);
          else console.log(formatGuardReport(report));
          // The pass completed even when it demoted; a pull request (or repository) it could not handle fails it.
          if (report.totals.errors > 0) process.exitCode = 1;
        });
      },
    );
}

/** The project's own repository and every repository its (valid) routines name, each once. */
function projectRepos(root: string, own: string): string[] {
  const names = new Set([own]);
  for (const routine of loadRoutines(root).routines)
    for (const r of resolveRepos(root, routine.repos)) names.add(r.name);
  return [...names];
}
