import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import { findProjectRoot, PROJECT_DIR, parseRoutine } from "../../config/load.ts";
import { AGENTS } from "../../config/routine-schema.ts";
import { CliError, workDir } from "../context.ts";
import { zonedTime } from "../zoned-time.ts";

/** A routine name from the prompt's first words: `fix-flaky-tests`. */
function nameFrom(prompt: string): string {
  return (
    prompt
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim()
      .split(" ")
      .slice(0, 4)
      .join("-") || "routine"
  );
}

export function registerSchedule(program: Command): void {
  program
    .command("schedule")
    .description('create a routine from a phrase such as "daily at 9am", "every 2 hours", "in 2 weeks"')
    .argument("<phrase>", "when to run")
    .requiredOption("--prompt <text>", "what the agent should do")
    .option("--name <name>", "routine name (default: from the prompt)")
    .option("--agent <agent>", `agent: ${AGENTS.join(", ")}`, "claude-code")
    .option("--model <model>", "model")
    .option(
      "--timezone <tz>",
      "IANA time zone (default: this machine's)",
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    )
    .option("--dry-run", "print what would be written, write nothing")
    .option("--force", "overwrite an existing routine file")
    .action(
      async (
        phrase: string,
        opts: {
          prompt: string;
          name?: string;
          agent: string;
          model?: string;
          timezone: string;
          dryRun?: boolean;
          force?: boolean;
        },
        cmd: Command,
      ) => {
        const root = findProjectRoot(workDir(cmd));
        if (!root) throw new CliError("not in a nightshift project: run `nightshift init` first");
        const { parsePhrase } = await import("../../scheduler/phrase.ts");
        const parsed = (() => {
          try {
            return parsePhrase(phrase, Date.now(), opts.timezone);
          } catch (err) {
            throw new CliError((err as Error).message, 2, { cause: err });
          }
        })();
        const name = opts.name ?? nameFrom(opts.prompt);
        const front: Record<string, unknown> = {
          description: opts.prompt.split("\n")[0]!.slice(0, 100),
          agent: opts.agent,
        };
        if (opts.model) front.model = opts.model;
        front.triggers = [parsed.trigger];
        const file = join(root, PROJECT_DIR, "routines", `${name}.md`);
        const text = `---\n${stringify(front).trim()}\n---\n${opts.prompt.trim()}\n`;
        parseRoutine(file, text); // the same validation as any routine file
        console.log(
          [
            parsed.cron
              ? `cron:     ${parsed.cron}  (${parsed.trigger && "timezone" in parsed.trigger ? parsed.trigger.timezone : "UTC"})`
              : `once at:  ${"at" in parsed.trigger ? parsed.trigger.at : ""}`,
            `reads:    ${parsed.description}`,
            `next:     ${parsed.next.map((t) => zonedTime(t, opts.timezone)).join("\n          ")}`,
          ].join("\n"),
        );
        if (opts.dryRun) return console.log(`\n--dry-run: would write ${file}:\n\n${text}`);
        if (existsSync(file) && !opts.force)
          throw new CliError(`${file} exists; pick another --name or pass --force`);
        mkdirSync(join(root, PROJECT_DIR, "routines"), { recursive: true });
        writeFileSync(file, text);
        console.log(`\nwrote ${file} (fired by \`nightshift serve\`)`);
      },
    );
}
