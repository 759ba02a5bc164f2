import type { Command } from "commander";
import { loadRoutine } from "../../config/load.ts";
import { fireRoutine } from "../../queue/fire.ts";
import { randomId } from "../../util/ids.ts";
import { positiveInt, printJson, withProject } from "../context.ts";

export function registerFire(program: Command): void {
  program
    .command("fire")
    .description("queue a run of a routine for `nightshift serve` (what the API trigger does, from the CLI)")
    .argument("<routine>")
    .option("--text <text>", "run-specific context added to the prompt")
    .option("--issue <number>", "work on this issue", positiveInt("--issue"))
    .option("--json", "print JSON")
    .action(async (name: string, opts: { text?: string; issue?: number; json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const routine = loadRoutine(p.root, name);
        if (opts.issue !== undefined) await p.forge.getIssue(p.repoName, opts.issue);
        const r = await fireRoutine(p.store.db, {
          routine,
          trigger: "manual",
          dedupeKey: `cli:${randomId(16)}`,
          ...(opts.text ? { context: opts.text } : {}),
          ...(opts.issue !== undefined ? { issueNumber: opts.issue } : {}),
          now: p.clock.now(),
        });
        if (opts.json)
          return printJson({
            type: "routine_fire",
            run_id: r.runId,
            outcome: r.outcome,
            session_id: r.sessionId ?? null,
          });
        if (r.outcome === "queued")
          console.log(
            `queued run ${r.runId}; its session will be ${r.sessionId} (a running \`nightshift serve\` picks it up)`,
          );
        else console.log(`not queued: ${r.reason ?? r.outcome}`);
      });
    });
}
