import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { loadRoutine, PROJECT_DIR } from "../../config/load.ts";
import { AGENT_ADAPTERS } from "../../runner/agents/index.ts";
import { openProject } from "../../project.ts";
import { gitMaybe } from "../../util/git.ts";
import { CliError } from "../context.ts";
import { scaffold } from "./init.ts";
import { runRoutine } from "./run.ts";

export function registerQuickstart(program: Command): void {
  program
    .command("quickstart")
    .description("set up nightshift in a repository (if needed) and run its example routine once")
    .argument("[repository]", "path to a git repository", ".")
    .option("--routine <name>", "routine to run", "example")
    .action(async (repository: string, opts: { routine: string }) => {
      const dir = resolve(repository);
      const top = await gitMaybe(dir, ["rev-parse", "--show-toplevel"]);
      if (!top)
        throw new CliError(
          `${dir} is not a git repository: pass the path of one, e.g. nightshift quickstart ~/src/my-project`,
        );
      if (!existsSync(join(top, PROJECT_DIR))) {
        scaffold(top);
        console.log(
          `created ${join(top, PROJECT_DIR)}/ with an example routine (edit .nightshift/routines/example.md)`,
        );
      }
      const routine = loadRoutine(top, opts.routine);
      const problem = AGENT_ADAPTERS[routine.agent].checkCredentials(process.env);
      if (problem) {
        console.error(
          [
            pc.red(`nightshift cannot start ${routine.agent}: no credentials.`),
            "",
            problem,
            "",
            "For example:",
            "  export ANTHROPIC_API_KEY=sk-ant-...        # an Anthropic API key",
            "  export CLAUDE_CODE_OAUTH_TOKEN=...         # or a Claude subscription token (`claude setup-token`)",
            `and run this command again. Nothing was changed in ${top} but the new .nightshift/ folder.`,
          ].join("\n"),
        );
        process.exitCode = 2;
        return;
      }
      const project = await openProject(top);
      try {
        const session = await runRoutine(project, opts.routine, {});
        process.exitCode = session.state === "succeeded" ? 0 : 1;
      } finally {
        await project.close();
      }
    });
}
