import type { Command } from "commander";
import pc from "picocolors";
import { listDeliveries } from "../../store/deliveries.ts";
import { listRuns } from "../../store/runs.ts";
import { findSession, listSessions } from "../../store/sessions.ts";
import { CliError, positiveInt, printJson, withProject } from "../context.ts";
import { isoTime, sessionDuration, stateLabel, table } from "../format.ts";
import { printSummary } from "./run.ts";

export function registerSessions(program: Command): void {
  const sessions = program.command("sessions").description("list and inspect sessions (runs of routines)");

  sessions
    .command("list")
    .description("list recent sessions, newest first")
    .option("--routine <name>", "only this routine's sessions")
    .option("--limit <n>", "how many", positiveInt("--limit"), 20)
    .option("--all", "every fire, including runs still queued and slots skipped or missed")
    .option("--json", "print JSON")
    .action(
      async (opts: { routine?: string; limit: number; all?: boolean; json?: boolean }, cmd: Command) => {
        await withProject(cmd, async (p) => {
          if (opts.all) {
            const runs = await listRuns(p.store.db, {
              ...(opts.routine ? { routine: opts.routine } : {}),
              limit: opts.limit,
            });
            if (opts.json) return printJson(runs);
            if (runs.length === 0) return console.log("no runs yet");
            return console.log(
              table(
                ["RUN", "ROUTINE", "TRIGGER", "SLOT", "STATE", "ATTEMPT", "SESSION", "REASON"],
                runs.map((r) => [
                  r.id,
                  r.routine,
                  r.trigger,
                  r.scheduled_for ? isoTime(r.scheduled_for) : isoTime(r.created_at),
                  stateLabel(r.state),
                  r.attempt,
                  r.session_id,
                  r.reason,
                ]),
              ),
            );
          }
          const rows = await listSessions(p.store.db, {
            ...(opts.routine ? { routine: opts.routine } : {}),
            limit: opts.limit,
          });
          if (opts.json) return printJson(rows);
          if (rows.length === 0) return console.log("no sessions yet: `nightshift run <routine>` starts one");
          const now = p.clock.now();
          console.log(
            table(
              ["ID", "ROUTINE", "STATE", "TASK", "STARTED", "DURATION", "PR", "COST"],
              rows.map((s) => [
                s.id,
                s.routine,
                stateLabel(s.state),
                s.task_outcome,
                isoTime(s.created_at),
                sessionDuration(s, now),
                s.pr_number ? `#${s.pr_number}` : null,
                s.cost_usd !== null ? `$${Number(s.cost_usd).toFixed(4)}` : null,
              ]),
            ),
          );
        });
      },
    );

  sessions
    .command("show")
    .description("show one session: outcome, usage, delivery")
    .argument("<id>", "session id (or a unique prefix)")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const s = await findSession(p.store.db, id);
        if (!s) throw new CliError(`no session "${id}" (see \`nightshift sessions list\`)`);
        const deliveries = await listDeliveries(p.store.db, s.id);
        if (opts.json) return printJson({ ...s, deliveries });
        console.log(
          [
            `${pc.bold(s.routine)} · ${s.agent}${s.model ? ` (${s.model})` : ""} · trigger ${s.trigger}${s.issue_number ? ` · issue #${s.issue_number}` : ""}`,
            `  created ${isoTime(s.created_at)} · started ${isoTime(s.started_at)} · finished ${isoTime(s.finished_at)}`,
            `  branch ${s.branch ?? "—"} from ${s.base_branch ?? "—"}@${s.base_sha?.slice(0, 10) ?? "—"}`,
            `  workspace ${s.workspace_path ?? "—"}${s.workspace_removed_at ? " (removed)" : ""}`,
            `  changes: ${s.files_changed ?? 0} files, +${s.insertions ?? 0} −${s.deletions ?? 0}`,
          ].join("\n"),
        );
        if (deliveries.length) {
          console.log("  delivery:");
          for (const d of deliveries)
            console.log(
              `    ${d.action} ${[d.repo, d.ref, d.sha?.slice(0, 10), d.detail].filter(Boolean).join(" ")}`,
            );
        }
        printSummary(s, p.clock.now());
      });
    });
}
