import type { Command } from "commander";
import pc from "picocolors";
import { findSession } from "../../store/sessions.ts";
import { type SessionRow } from "../../store/schema.ts";
import { TERMINAL_STATES } from "../../session/states.ts";
import { readEvents } from "../../store/transcript.ts";
import type { TranscriptEvent } from "../../runner/transcript/events.ts";
import { CliError, withProject } from "../context.ts";
import { formatEvent, stateLabel } from "../format.ts";
import { testLine } from "./run.ts";

const FOLLOW_POLL_MS = 250;

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("print a session's transcript")
    .argument("<id>", "session id (or a unique prefix)")
    .option("-f, --follow", "keep printing new events until the session ends")
    .option("--json", "one JSON event per line: {seq, at, kind, data}")
    .option("-v, --verbose", "show the prompt, full tool output, stderr and per-turn tokens")
    .action(
      async (id: string, opts: { follow?: boolean; json?: boolean; verbose?: boolean }, cmd: Command) => {
        await withProject(cmd, async (p) => {
          const s = await findSession(p.store.db, id);
          if (!s) throw new CliError(`no session "${id}" (see \`nightshift sessions list\`)`);
          if (!opts.json) process.stdout.write(`${transcriptHeader(s)}\n`);
          let after = 0;
          for (;;) {
            const events = await readEvents<TranscriptEvent>(p.store.db, s.id, after);
            for (const e of events) {
              after = e.seq;
              if (opts.json) process.stdout.write(`${JSON.stringify(e)}\n`);
              else {
                const line = formatEvent(e.data, { verbose: opts.verbose ?? false });
                if (line !== undefined) process.stdout.write(`${line}\n`);
              }
            }
            if (!opts.follow) break;
            const now = await findSession(p.store.db, s.id);
            if (events.length === 0 && now && TERMINAL_STATES.includes(now.state)) break;
            await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
          }
        });
      },
    );
}

/**
 * The transcript's first lines: the session, its routine, agent and model (and whether the CLI
 * chose it), its state and outcome, and the test step's result when one ran.
 */
export function transcriptHeader(s: SessionRow): string {
  const model = s.model ? ` (${s.model}${s.model_source === "agent" ? ", the CLI's default" : ""})` : "";
  const lines = [
    pc.bold(`session ${s.id}`) +
      pc.dim(` · routine ${s.routine} · ${s.agent}${model} · `) +
      stateLabel(s.state) +
      (s.task_outcome ? pc.dim(` · ${s.task_outcome}`) : ""),
  ];
  const tests = testLine(s);
  if (tests) lines.push(tests);
  return lines.join("\n");
}
