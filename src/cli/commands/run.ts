import type { Command } from "commander";
import pc from "picocolors";
import { loadRoutine } from "../../config/load.ts";
import type { Project } from "../../project.ts";
import type { Routine } from "../../config/routine-schema.ts";
import type { TranscriptListener } from "../../runner/transcript/recorder.ts";
import type { SessionRow } from "../../store/schema.ts";
import { cancellable, positiveInt, printJson, withProject } from "../context.ts";
import { formatEvent, sessionDuration, stateLabel } from "../format.ts";
import { nextSteps, reasonLines } from "../next-steps.ts";

/** Options of `nightshift run`. */
export interface RunOptions {
  text?: string;
  issue?: number;
  json?: boolean;
  verbose?: boolean;
}

/** Runs a routine once in the foreground with a live transcript; returns the finished session. */
export async function runRoutine(project: Project, name: string, opts: RunOptions): Promise<SessionRow> {
  const routine = loadRoutine(project.root, name);
  const issue =
    opts.issue !== undefined ? await project.forge.getIssue(project.repoName, opts.issue) : undefined;
  if (!routine.enabled && !opts.json)
    console.error(pc.yellow(`note: routine "${name}" is disabled (enabled: false); running it once by hand`));
  // Loaded here, not at the top: `sessions` and `logs` import this module for its printers.
  const { runSession } = await import("../../runner/session.ts");
  return cancellable(opts.json, async (signal) => {
    const session = await runSession(project, {
      routine,
      ...(opts.text ? { text: opts.text } : {}),
      ...(issue ? { issue } : {}),
      signal,
      onCreated: (id) => {
        if (!opts.json)
          console.log(
            pc.bold(`session ${id}`) +
              pc.dim(
                ` · routine ${routine.name} · ${routine.agent}${routine.model ? ` (${routine.model})` : ""}`,
              ),
          );
      },
      onEvent: liveTranscript(opts),
    });
    if (opts.json) printJson(session);
    else printSummary(session, project.clock.now(), project.config.workspaces.retention);
    return session;
  });
}

/**
 * `nightshift run` on a deque routine: the deque run selects its items and runs a session for
 * each (the guard runs its pass). Prints each session as it goes and what was skipped.
 * @returns whether every session succeeded.
 */
async function runDequeRoutine(project: Project, routine: Routine, opts: RunOptions): Promise<boolean> {
  const [{ runRoutineOnce }, { formatGuardReport }, { describeResult }] = await Promise.all([
    import("../../deque/run-routine.ts"),
    import("../../deque/guard/report.ts"),
    import("../../deque/run-result.ts"),
  ]);
  return cancellable(opts.json, async (signal) => {
    const result = await runRoutineOnce(project, routine, {
      ...(opts.text ? { text: opts.text } : {}),
      signal,
      onCreated: (id) => {
        if (!opts.json) console.log(pc.bold(`session ${id}`) + pc.dim(` · routine ${routine.name}`));
      },
      onEvent: liveTranscript(opts),
    });
    if (opts.json) {
      printJson(result);
    } else {
      for (const s of result.sessions)
        printSummary(s, project.clock.now(), project.config.workspaces.retention);
      if (result.guard) console.log(formatGuardReport(result.guard));
      const line = describeResult(result);
      if (line) console.log(pc.dim(`\n${routine.workflow!.type}: ${line}`));
    }
    return result.sessions.every((s) => s.state === "succeeded") && (result.guard?.totals.errors ?? 0) === 0;
  });
}

/** Prints each transcript event as it is stored (nothing with `--json`). */
function liveTranscript(opts: RunOptions): TranscriptListener {
  return (ev) => {
    // The session's closing reason: the summary right after prints it (once, not twice).
    if (opts.json || ev.type === "error") return;
    const line = formatEvent(ev, { verbose: opts.verbose ?? false });
    if (line !== undefined) console.log(line);
  };
}

/**
 * The closing block of `nightshift run` (and `sessions show`): outcome, PR, usage, where the
 * transcript is; for a session that did not succeed, the next steps ({@link nextSteps}: the
 * workspace is kept for `retentionMs`, the project's `workspaces.retention`).
 */
export function printSummary(s: SessionRow, now: number, retentionMs: number): void {
  const lines = [
    "",
    `${pc.bold("session")} ${s.id}  ${stateLabel(s.state)}  (${sessionDuration(s, now)})`,
    `  infrastructure: ${s.infra_outcome ?? "—"}   task: ${s.task_outcome ?? "—"}`,
  ];
  if (s.reason) lines.push(`  reason: ${reasonLines(s.reason)}`);
  const tests = testLine(s);
  if (tests) lines.push(`  ${tests}`);
  if (s.pr_number)
    lines.push(`  draft PR #${s.pr_number} on ${s.branch}  →  nightshift pr show ${s.pr_number}`);
  lines.push(
    `  tokens: input ${s.input_tokens} · output ${s.output_tokens} · cache read ${s.cache_read_tokens} · cache write ${s.cache_creation_tokens}` +
      `${s.context_tokens ? ` · peak context ${s.context_tokens}` : ""}`,
    `  cost: ${s.cost_usd !== null ? `$${Number(s.cost_usd).toFixed(4)}` : "not reported"} · turns: ${s.num_turns ?? "—"}`,
    ...(s.model
      ? [
          `  model: ${s.model}${s.model_source === "agent" ? " (the CLI's default: the routine sets no model:)" : ""}`,
        ]
      : []),
    `  transcript: nightshift logs ${s.id}`,
  );
  const steps = nextSteps(s, retentionMs);
  if (steps) lines.push(steps);
  console.log(lines.join("\n"));
}

/**
 * The session's test step (`workflow.test_command`) in one line — `tests: passed (npm test)`,
 * `tests: FAILED — npm test exited 127` — or `undefined` when no test step ran.
 */
export function testLine(s: SessionRow): string | undefined {
  if (!s.test_result) return undefined;
  const runs = (s.test_runs ?? 1) > 1 ? `, last of ${s.test_runs} runs` : "";
  if (s.test_result === "passed") return pc.green(`tests: passed (${s.test_command}${runs})`);
  const how = s.test_result === "killed" ? "was stopped" : `exited ${s.test_exit_code}`;
  return pc.red(`tests: FAILED — ${s.test_command} ${how}${runs}`);
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run a routine once now, in the foreground, with a live transcript")
    .argument("<routine>", "routine name (file .nightshift/routines/<routine>.md)")
    .option("--text <text>", "run-specific context added to the prompt")
    .option(
      "--issue <number>",
      "work on this issue of the forge: its title and body go to the agent",
      positiveInt("--issue"),
    )
    .option("--json", "print only the finished session as JSON")
    .option("-v, --verbose", "show the prompt, full tool output, stderr and per-turn tokens")
    .action(async (name: string, opts: RunOptions, cmd: Command) => {
      const ok = await withProject(cmd, async (p) => {
        const routine = loadRoutine(p.root, name);
        const { routinePause } = await import("../../store/routine-switches.ts");
        const pause = await routinePause(p.store.db, name);
        if (pause)
          console.error(
            pc.yellow(
              `note: routine "${name}" is paused${pause.reason ? ` (${pause.reason})` : ""} since ${new Date(pause.since).toISOString()} by ${pause.by}; running it once by hand (\`nightshift routines resume ${name}\` resumes its triggers)`,
            ),
          );
        if (!routine.workflow) return (await runRoutine(p, name, opts)).state === "succeeded";
        return runDequeRoutine(p, routine, opts);
      });
      process.exitCode = ok ? 0 : 1;
    });
}
