import { userInfo } from "node:os";
import type { Command } from "commander";
import { readDaemonStatus } from "../../daemon/presence.ts";
import { cancelRun, findRun } from "../../store/runs.ts";
import { CliError, printJson, withProject } from "../context.ts";

/** Who cancels, as the run's reason names them: the OS user (there are no CLI accounts). */
function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown user";
  }
}

export function registerRuns(program: Command): void {
  const runs = program
    .command("runs")
    .description(
      "manage queued runs (fires waiting for or held by `nightshift serve`; see `sessions list --all`)",
    );

  runs
    .command("cancel")
    .description(
      "cancel a queued run so it never starts, or stop a running one; a person's cancel stays cancelled (a daemon restart does not requeue it)",
    )
    .argument("<run id>", "run id (or a unique prefix), from `nightshift fire` or `sessions list --all`")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const run = await findRun(p.store.db, id);
        if (!run) throw new CliError(`no run "${id}" (see \`nightshift sessions list --all\`)`);
        const reason = `cancelled by ${whoAmI()} from the CLI`;
        const was = await cancelRun(p.store.db, run.id, { now: p.clock.now(), reason });
        if (!was)
          throw new CliError(
            `run ${run.id} is already ${run.state}${run.reason ? ` (${run.reason})` : ""}: nothing to cancel`,
          );
        if (opts.json) return printJson({ run_id: run.id, was, state: "cancelled", reason });
        if (was === "pending")
          return console.log(`cancelled run ${run.id} (${run.routine}): it will not start`);
        const daemon = readDaemonStatus(p.stateDir);
        console.log(
          `cancelled run ${run.id} (${run.routine}): ${
            daemon?.alive
              ? `the daemon stops its session${run.session_id ? ` ${run.session_id}` : ""} at its next heartbeat (within ${Math.ceil(p.config.server.lease / 4 / 1000)}s)`
              : "no daemon is running, so nothing more to stop"
          }`,
        );
      });
    });
}
