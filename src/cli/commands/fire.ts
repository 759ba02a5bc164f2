import type { Command } from "commander";
import pc from "picocolors";
import { loadRoutine } from "../../config/load.ts";
import { readDaemonStatus } from "../../daemon/presence.ts";
import { fireRoutine } from "../../queue/fire.ts";
import { randomId } from "../../util/ids.ts";
import { positiveInt, printJson, withProject } from "../context.ts";
import { isoTime } from "../format.ts";

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
        const daemon = readDaemonStatus(p.stateDir);
        const served = daemon?.alive === true;
        if (opts.json)
          return printJson({
            type: "routine_fire",
            run_id: r.runId,
            outcome: r.outcome,
            session_id: r.sessionId ?? null,
            daemon_running: served,
          });
        if (r.outcome === "queued") {
          console.log(
            `queued run ${r.runId}; its session will be ${r.sessionId} (${served ? `the daemon at ${daemon.presence.url} picks it up` : "a running `nightshift serve` picks it up"})`,
          );
          if (!served)
            console.error(
              pc.yellow(
                `warning: no \`nightshift serve\` is running for this project${daemon ? ` (the one started ${isoTime(daemon.presence.started_at)}, pid ${daemon.presence.pid}, is gone)` : ""}: the run waits until one starts. Start one with \`nightshift serve\`, run the routine now with \`nightshift run ${routine.name}\`, or cancel it with \`nightshift runs cancel ${r.runId}\``,
              ),
            );
        } else console.log(`not queued: ${r.reason ?? r.outcome}`);
      });
    });
}
