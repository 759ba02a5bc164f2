import type { Command } from "commander";
import pc from "picocolors";
import { CliError, positiveInt, printJson, repoOption, withProject } from "../context.ts";
import { isoTime, table } from "../format.ts";

export function registerPr(program: Command): void {
  const pr = program.command("pr").description("pull requests on the local forge");

  pr.command("list")
    .description("list pull requests")
    .option("--state <state>", "open | closed | merged | all", "open")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (opts: { state: string; json?: boolean }, cmd: Command) => {
      if (!["open", "closed", "merged", "all"].includes(opts.state))
        throw new CliError(`--state must be open, closed, merged or all, got "${opts.state}"`);
      await withProject(cmd, async (p) => {
        const list = await p.forge.listPullRequests(repoOption(cmd, p.repoName), {
          state: opts.state as "open",
        });
        if (opts.json) return printJson(list);
        if (list.length === 0)
          return console.log(`no ${opts.state === "all" ? "" : `${opts.state} `}pull requests`);
        console.log(
          table(
            ["#", "TITLE", "HEAD", "BASE", "STATE", "SESSION", "CREATED"],
            list.map((x) => [
              x.number,
              x.title,
              x.head,
              x.base,
              x.draft && x.state === "open" ? "draft" : x.state,
              x.sessionId,
              isoTime(x.createdAt),
            ]),
          ),
        );
      });
    });

  pr.command("show")
    .description("show a pull request")
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (number: number, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const x = await p.forge.getPullRequest(repoOption(cmd, p.repoName), number);
        if (opts.json) return printJson(x);
        console.log(
          `${pc.bold(`#${x.number} ${x.title}`)}  [${x.draft && x.state === "open" ? "draft" : x.state}]  ${x.head} → ${x.base}  by ${x.author} on ${isoTime(x.createdAt)}\n\n${x.body}`,
        );
      });
    });

  pr.command("diff")
    .description("print a pull request's diff (base...head)")
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .action(async (number: number, _opts: unknown, cmd: Command) => {
      await withProject(cmd, async (p) => {
        process.stdout.write(`${await p.forge.pullRequestDiff(repoOption(cmd, p.repoName), number)}\n`);
      });
    });
}
