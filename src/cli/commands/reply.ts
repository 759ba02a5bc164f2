import type { Command } from "commander";
import pc from "picocolors";
import { readDaemonStatus } from "../../daemon/presence.ts";
import type { Project } from "../../project.ts";
import type { TranscriptListener } from "../../runner/transcript/recorder.ts";
import type { SessionRow } from "../../store/schema.ts";
import { findSession } from "../../store/sessions.ts";
import { cancellable, CliError, printJson, withProject } from "../context.ts";
import { formatEvent } from "../format.ts";
import { printSummary } from "./run.ts";

/** Options of `nightshift reply`. */
interface ReplyOptions {
  fresh?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/** Prints each transcript event as it is stored (nothing with `--json`). */
export function liveTranscript(opts: { json?: boolean; verbose?: boolean }): TranscriptListener {
  return (ev) => {
    if (opts.json || ev.type === "error") return;
    const line = formatEvent(ev, { verbose: opts.verbose ?? false });
    if (line !== undefined) console.log(line);
  };
}

/** The URL of the daemon serving the project, when one is alive. */
export function liveDaemon(project: Project): string | undefined {
  const d = readDaemonStatus(project.stateDir);
  return d?.alive ? d.presence.url : undefined;
}

/**
 * `nightshift reply <session> <text>`: continues the session's conversation (a follow-up), in
 * the foreground with a live transcript when no daemon serves the project, else through its
 * queue. A session still running gets the text when its turn ends. `--fresh`: a new session
 * carrying a summary of this one (for a session past `workspaces.resume_window`).
 *
 * @returns whether the reply was accepted (and, in the foreground, the follow-up succeeded).
 */
async function reply(project: Project, id: string, text: string, opts: ReplyOptions): Promise<boolean> {
  const [{ startFollowUp, runFollowUp, FollowUpError, conversationHead, freshPrompt }, dispatch] =
    await Promise.all([import("../../runner/follow-up.ts"), import("../../runner/dispatch.ts")]);
  const daemon = liveDaemon(project);
  const say = (line: string) => {
    if (!opts.json) console.log(line);
  };
  if (opts.fresh) {
    const found = await findSession(project.store.db, id);
    if (!found) throw new CliError(`no session "${id}" (see \`nightshift sessions\`)`);
    const head = await conversationHead(project, found);
    const routine = head.routine === dispatch.DISPATCH_ROUTINE ? undefined : head.routine;
    const req = {
      prompt: await freshPrompt(project, head, text),
      ...(routine ? { routine } : {}),
      agent: head.agent,
    };
    if (daemon) {
      const q = await dispatch.queueDispatch(project, req);
      if (opts.json)
        printJson({ type: "fresh_session", outcome: "queued", run_id: q.runId, session_id: q.sessionId });
      else
        say(
          `queued a fresh session ${q.sessionId} (run ${q.runId}) carrying a summary of ${head.id}; the daemon at ${daemon} runs it`,
        );
      return true;
    }
    return cancellable(opts.json, async (signal) => {
      const s = await dispatch.runDispatch(project, req, {
        signal,
        onCreated: (sid) =>
          say(pc.bold(`session ${sid}`) + pc.dim(` · fresh session carrying a summary of ${head.id}`)),
        onEvent: liveTranscript(opts),
      });
      finished(project, s, opts);
      const last = await drainReplies(project, s, signal, opts);
      return last.state === "succeeded";
    });
  }
  const { awaitingAnswer } = await import("../../runner/reply.ts");
  const waiting = await awaitingAnswer(project, id);
  if (waiting) return answer(project, waiting, text, opts, daemon);
  try {
    if (daemon) {
      const r = await startFollowUp(project, { parentSessionId: id, text });
      if (opts.json) {
        printJson({
          type: "follow_up",
          outcome: r.kind,
          session_id: r.sessionId,
          ...(r.kind === "queued"
            ? { run_id: r.runId, parent_session_id: r.parentSessionId }
            : { message_id: r.messageId }),
        });
      } else if (r.kind === "queued")
        say(
          `queued follow-up session ${r.sessionId} of ${r.parentSessionId} (run ${r.runId}); the daemon at ${daemon} runs it — follow it with \`nightshift logs ${r.sessionId}\``,
        );
      else
        say(
          `session ${r.sessionId} is still running: the reply is stored and becomes a follow-up when its current turn ends`,
        );
      return true;
    }
    return await cancellable(opts.json, async (signal) => {
      const out = await runFollowUp(
        project,
        { parentSessionId: id, text },
        {
          signal,
          onCreated: (sid) => say(pc.bold(`session ${sid}`) + pc.dim(` · follow-up of ${id}`)),
          onEvent: liveTranscript(opts),
        },
      );
      if (!out.session) {
        if (opts.json) printJson({ type: "follow_up", outcome: "stored", session_id: out.storedOn });
        else
          say(
            `session ${out.storedOn} is still running: the reply is stored and becomes a follow-up when its current turn ends (a running \`nightshift serve\` runs it)`,
          );
        return true;
      }
      finished(project, out.session, opts);
      const last = await drainReplies(project, out.session, signal, opts);
      return last.state === "succeeded";
    });
  } catch (err) {
    if (err instanceof FollowUpError)
      throw new CliError(err.message, err.code === "not_resumable" ? 1 : 2, { cause: err });
    throw err;
  }
}

/**
 * `reply` to a session that asked a question (`needs_input`): the text is the answer, checked
 * against the question's choices. The daemon resumes the session when one runs; otherwise it
 * is resumed here, in the foreground, with a live transcript.
 */
async function answer(
  project: Project,
  waiting: SessionRow,
  text: string,
  opts: ReplyOptions,
  daemon: string | undefined,
): Promise<boolean> {
  const [{ sendReply }, { FollowUpError, runQueuedFollowUp }] = await Promise.all([
    import("../../runner/reply.ts"),
    import("../../runner/follow-up.ts"),
  ]);
  let r;
  try {
    r = await sendReply(project, { sessionId: waiting.id, text, trigger: "answer", by: "cli" });
  } catch (err) {
    if (err instanceof FollowUpError) throw new CliError(err.message, 2, { cause: err });
    throw err;
  }
  if (daemon || r.kind !== "queued") {
    if (opts.json) printJson({ type: "answer", outcome: r.kind, session_id: r.sessionId });
    else
      console.log(
        `answered ${waiting.id}'s question; ${daemon ? `the daemon at ${daemon} resumes it as session ${r.sessionId}` : `stored for session ${r.sessionId}`}`,
      );
    return true;
  }
  return cancellable(opts.json, async (signal) => {
    const next = await runQueuedFollowUp(project, waiting.id, {
      signal,
      onCreated: (sid) => {
        if (!opts.json)
          console.log(pc.bold(`session ${sid}`) + pc.dim(` · resumes ${waiting.id} with the answer`));
      },
      onEvent: liveTranscript(opts),
    });
    if (!next) return true;
    finished(project, next, opts);
    const last = await drainReplies(project, next, signal, opts);
    return last.state === "succeeded";
  });
}

/**
 * Replies sent while a foreground session ran: each became a queued follow-up when its turn
 * ended; run them here, one after another, while no daemon serves the project.
 * @returns the last session run (`s` when none was queued).
 */
export async function drainReplies(
  project: Project,
  s: SessionRow,
  signal: AbortSignal,
  opts: { json?: boolean; verbose?: boolean },
): Promise<SessionRow> {
  const { runQueuedFollowUp } = await import("../../runner/follow-up.ts");
  let last = s;
  while (!signal.aborted && !liveDaemon(project)) {
    const next = await runQueuedFollowUp(project, last.id, {
      signal,
      onCreated: (sid) => {
        if (!opts.json)
          console.log(
            pc.bold(`\nsession ${sid}`) + pc.dim(` · follow-up of ${last.id} (replies sent while it ran)`),
          );
      },
      onEvent: liveTranscript(opts),
    });
    if (!next) break;
    finished(project, next, opts);
    last = next;
  }
  return last;
}

function finished(project: Project, s: SessionRow, opts: { json?: boolean }): void {
  if (opts.json) printJson(s);
  else {
    printSummary(s, project.clock.now(), project.config.workspaces.retention);
    if (s.parent_session_id)
      console.log(`  follow-up of ${s.parent_session_id}  →  nightshift reply ${s.id} "…" to continue`);
  }
}

export function registerReply(program: Command): void {
  program
    .command("reply")
    .description(
      "continue a session with new instructions: same agent conversation, workspace, branch and PR (through the daemon when one runs)",
    )
    .argument("<session>", "session id (or a unique prefix)")
    .argument("<text...>", "the new instructions")
    .option(
      "--fresh",
      "start a new session carrying a summary of this one (when it can no longer be resumed)",
    )
    .option("--json", "print JSON")
    .option("-v, --verbose", "show the prompt, full tool output, stderr and per-turn tokens")
    .action(async (id: string, words: string[], opts: ReplyOptions, cmd: Command) => {
      const ok = await withProject(cmd, (p) => reply(p, id, words.join(" "), opts));
      process.exitCode = ok ? 0 : 1;
    });
}
