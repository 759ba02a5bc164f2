import type { Command } from "commander";
import pc from "picocolors";
import { findSession } from "../../store/sessions.ts";
import { type SessionRow } from "../../store/schema.ts";
import { IDLE_STATES } from "../../session/states.ts";
import { openSessionQuestion, type SessionQuestion } from "../../store/session-questions.ts";
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
            if (events.length === 0 && now && IDLE_STATES.includes(now.state)) break;
            await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
          }
          // Waiting for an answer: the question, its choices and how to answer.
          const last = await findSession(p.store.db, s.id);
          const open =
            last?.state === "needs_input" ? await openSessionQuestion(p.store.db, s.id) : undefined;
          if (open && !opts.json) process.stdout.write(`${questionLines(open, s.id)}\n`);
        });
      },
    );
}

/**
 * A question a `needs_input` session waits on, for the terminal: each question, its numbered
 * choices (label — description), and the `nightshift reply` command that answers it.
 */
export function questionLines(q: SessionQuestion, sessionId: string): string {
  const lines = [pc.yellow(pc.bold("? the agent is waiting for your answer"))];
  for (const x of q.questions) {
    lines.push(
      `  ${x.header ? pc.dim(`[${x.header}] `) : ""}${x.question}${x.multiSelect ? pc.dim(" (one or more, comma-separated)") : ""}`,
    );
    x.options.forEach((o, i) =>
      lines.push(`    ${i + 1}. ${o.label}${o.description ? pc.dim(` — ${o.description}`) : ""}`),
    );
  }
  lines.push(pc.dim(`  answer: nightshift reply ${sessionId} "<answer>"`));
  return lines.join("\n");
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
