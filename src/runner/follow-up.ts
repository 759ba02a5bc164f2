/**
 * Follow-ups: continuing a finished session's agent conversation with new instructions, in
 * the same workspace, on the same branch and pull request.
 *
 * A follow-up is a new session record whose `parent_session_id` is the session it continues.
 * It reuses the parent's workspace folder (no new clone) and private HOME, and resumes the
 * agent's own conversation: Claude Code `-p --resume <agent session id>`, Codex `exec resume
 * <thread id>`, the `command` agent a new run with the text in `$NIGHTSHIFT_PROMPT_FILE`. Its
 * changes are committed on the parent's branch and pushed to the parent's pull request (one PR
 * per conversation, one more commit, a comment saying what the follow-up did, and the PR's
 * body rewritten to tell the whole conversation: src/runner/session/deliver.ts).
 *
 * Entry points:
 * - {@link startFollowUp} — durable: queues the follow-up for the daemon's worker pool (a run
 *   row that survives a restart or `kill -9`), or, when the session is still running, stores
 *   the reply, which becomes a follow-up when its turn ends. Use it from the daemon, the HTTP
 *   API, the dashboard, and to answer a question an agent asked (`toolAnswer`).
 * - {@link runFollowUp} — runs one now, in this process (the CLI's foreground, a worker).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatDuration } from "../config/duration.ts";
import { RoutineNotFoundError } from "../config/errors.ts";
import { loadRoutine } from "../config/load.ts";
import type { AgentKind, Routine } from "../config/routine-schema.ts";
import type { Project } from "../project.ts";
import { IDLE_STATES } from "../session/states.ts";
import type { SessionRow } from "../store/schema.ts";
import { addSessionMessage } from "../store/session-messages.ts";
import { findSession, followUpsOf } from "../store/sessions.ts";
import { claimFollowUpRun, finishRun, runRequestOf } from "../store/runs.ts";
import { readEvents } from "../store/transcript.ts";
import { randomId } from "../util/ids.ts";
import { DISPATCH_ROUTINE, dispatchRoutine, type RunOptions } from "./dispatch.ts";
import { runSession } from "./session.ts";
import { queueFollowUp, queuePendingReplies } from "./session/replies.ts";

/** Why a follow-up cannot start. `code` tells the HTTP API which status to answer. */
export class FollowUpError extends Error {
  override name = "FollowUpError";
  /** `not_found`: no such session; `not_resumable`: past the resume window or its workspace is gone; `bad_request`: empty text. */
  readonly code: "not_found" | "not_resumable" | "bad_request";
  constructor(code: FollowUpError["code"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** What {@link startFollowUp} and {@link runFollowUp} take. */
export interface FollowUpRequest {
  /** The session to continue: its id or a unique prefix. A later follow-up of it is continued instead, if there is one. */
  parentSessionId: string;
  /** The new instructions. */
  text: string;
  /**
   * Answers to the question the agent asked before it stopped (`needs_input`), by question
   * text; handed to the agent adapter's resume (`AgentContext.resume.toolAnswer`).
   */
  toolAnswer?: Record<string, string>;
  /** What started it, stored on the session (default `reply`). */
  trigger?: string;
}

/** What {@link startFollowUp} did. */
export type StartedFollowUp =
  /** The session (`sessionId`) is still running: the reply is stored and becomes a follow-up when its turn ends. */
  | { kind: "stored"; messageId: string; sessionId: string }
  /** Queued for the daemon's worker pool; `sessionId` is the follow-up's id, `parentSessionId` the session it continues. */
  | { kind: "queued"; runId: string; sessionId: string; parentSessionId: string };

/** Whether the session's turn is over: it ended, or it waits for an answer (`needs_input`) with no process running. */
const isTerminal = (s: SessionRow) => IDLE_STATES.includes(s.state);

/**
 * The newest session of the conversation `s` belongs to: `s`, or its latest follow-up, or that
 * one's latest, and so on. A reply to any session of a conversation continues its newest one
 * (the agent's latest turn, the branch's latest commit).
 */
export async function conversationHead(project: Project, s: SessionRow): Promise<SessionRow> {
  let head = s;
  for (let i = 0; i < 10_000; i++) {
    const next = (await followUpsOf(project.store.db, head.id)).at(-1);
    if (!next) return head;
    head = next;
  }
  return head;
}

/**
 * Why a finished session can no longer be continued, or `undefined` when it can: its workspace
 * was removed or is gone, it finished longer than `workspaces.resume_window` ago, or its agent
 * CLI reported no conversation id to resume.
 */
export function resumeProblem(project: Project, s: SessionRow): string | undefined {
  const window = project.config.workspaces.resume_window ?? 0;
  const now = project.clock.now();
  if (s.finished_at !== null && Number(s.finished_at) + window < now)
    return `session ${s.id} finished ${new Date(Number(s.finished_at)).toISOString()}, longer ago than workspaces.resume_window (${formatDuration(window)}): it can no longer be resumed`;
  if (
    s.workspace_removed_at !== null ||
    !s.workspace_path ||
    !existsSync(join(s.workspace_path, "workspace"))
  )
    return `session ${s.id}'s workspace is gone (removed by retention, or never prepared): it can no longer be resumed`;
  if (s.agent !== "command" && !s.agent_session_id)
    return `session ${s.id}'s agent (${s.agent}) reported no conversation id, so there is no conversation to resume`;
  return undefined;
}

/** Finds a session by id or unique prefix. @throws {FollowUpError} `not_found`. */
async function sessionOrThrow(project: Project, id: string): Promise<SessionRow> {
  const s = await findSession(project.store.db, id);
  if (!s) throw new FollowUpError("not_found", `no session "${id}" (see \`nightshift sessions\`)`);
  return s;
}

/**
 * Starts a follow-up durably. When the conversation's newest session is still running, the
 * text is stored (`session_messages`) and delivered as a follow-up when its current turn ends;
 * otherwise a follow-up run is queued for the daemon's worker pool (`runs.request`), which
 * survives a daemon restart or `kill -9`. Nothing runs in this process.
 *
 * This is the function to call to resume a session from outside the CLI's foreground — the
 * HTTP API, the dashboard, an answer to a question the agent asked (pass `toolAnswer`).
 *
 * @throws {FollowUpError} `bad_request` (empty text), `not_found`, `not_resumable` (the
 *   message says why and suggests `nightshift reply --fresh`).
 */
export async function startFollowUp(project: Project, req: FollowUpRequest): Promise<StartedFollowUp> {
  if (!req.text.trim())
    throw new FollowUpError("bad_request", "the reply is empty: write what the agent should do next");
  const db = project.store.db;
  const head = await conversationHead(project, await sessionOrThrow(project, req.parentSessionId));
  if (!isTerminal(head)) {
    const m = await addSessionMessage(db, { sessionId: head.id, text: req.text, now: project.clock.now() });
    // It may have finished while the reply was being stored: then deliver it now.
    const after = await findSession(db, head.id);
    if (after && isTerminal(after)) {
      const queued = await queuePendingReplies(db, after, project.clock.now());
      if (queued)
        return { kind: "queued", runId: queued.runId, sessionId: queued.sessionId, parentSessionId: head.id };
    }
    return { kind: "stored", messageId: m.id, sessionId: head.id };
  }
  const problem = resumeProblem(project, head);
  if (problem)
    throw new FollowUpError(
      "not_resumable",
      `${problem}; start a fresh session with a summary of it: nightshift reply ${head.id} --fresh "…"`,
    );
  const q = await queueFollowUp(db, {
    parent: head,
    text: req.text,
    ...(req.toolAnswer ? { toolAnswer: req.toolAnswer } : {}),
    ...(req.trigger ? { trigger: req.trigger } : {}),
    now: project.clock.now(),
  });
  if (q.merged?.messageId) return { kind: "stored", messageId: q.merged.messageId, sessionId: q.sessionId };
  return { kind: "queued", runId: q.runId, sessionId: q.sessionId, parentSessionId: head.id };
}

/** What {@link runFollowUp} did: ran a session, or stored the text on a session still running. */
export type FollowUpOutcome =
  { session: SessionRow; storedOn?: undefined } | { storedOn: string; session?: undefined };

/**
 * Runs a follow-up now, in this process: resolves the conversation's newest session, checks it
 * can be resumed, and runs the follow-up session (same workspace, branch and PR; the agent
 * resumes its conversation). If that session is running, the text is stored for it instead
 * (see {@link startFollowUp}).
 *
 * @returns the finished follow-up session, or `storedOn`: the running session the text waits for.
 * @throws {FollowUpError} as {@link startFollowUp}.
 * @throws {RoutineNotFoundError | ConfigErrors} when the parent's routine cannot be loaded.
 */
export async function runFollowUp(
  project: Project,
  req: FollowUpRequest,
  opts: RunOptions = {},
): Promise<FollowUpOutcome> {
  if (!req.text.trim())
    throw new FollowUpError("bad_request", "the reply is empty: write what the agent should do next");
  const head = await conversationHead(project, await sessionOrThrow(project, req.parentSessionId));
  if (!isTerminal(head)) {
    await addSessionMessage(project.store.db, {
      sessionId: head.id,
      text: req.text,
      now: project.clock.now(),
    });
    return { storedOn: head.id };
  }
  const problem = resumeProblem(project, head);
  if (problem)
    throw new FollowUpError(
      "not_resumable",
      `${problem}; start a fresh session with a summary of it: nightshift reply ${head.id} --fresh "…"`,
    );
  const routine = followUpRoutine(project, head);
  const session = await runSession(project, {
    ...opts,
    routine,
    trigger: req.trigger ?? "reply",
    ...(head.title ? { title: head.title } : {}),
    followUp: { parent: head, text: req.text, ...(req.toolAnswer ? { toolAnswer: req.toolAnswer } : {}) },
  });
  return { session };
}

/**
 * The routine a follow-up of `parent` runs with: the parent's routine as its file says now,
 * with the parent's agent and model (the conversation's CLI cannot change); for a dispatched
 * session without a routine, the project's defaults.
 *
 * @throws {RoutineNotFoundError} when the parent's routine file is gone (and it was no dispatch).
 */
export function followUpRoutine(project: Project, parent: SessionRow): Routine {
  let routine: Routine;
  try {
    routine = loadRoutine(project.root, parent.routine);
  } catch (err) {
    if (!(err instanceof RoutineNotFoundError) || parent.routine !== DISPATCH_ROUTINE) throw err;
    routine = dispatchRoutine(project, { prompt: parent.title ?? "follow-up", agent: parent.agent });
  }
  const agent = parent.agent as AgentKind;
  const model = parent.model_source === "routine" && parent.model ? parent.model : routine.model;
  const { model: _m, ...rest } = routine;
  return { ...rest, agent, ...(model ? { model } : {}) };
}

/** Longest part of the earlier session quoted in a fresh session's prompt, in characters. */
const SUMMARY_CHARS = 4000;

/**
 * The prompt of a fresh session that picks up a session which can no longer be resumed: what
 * that session was asked, what its agent said last, its branch and PR, then the new text.
 */
export async function freshPrompt(project: Project, parent: SessionRow, text: string): Promise<string> {
  const events = await readEvents<{ type: string; text?: string }>(project.store.db, parent.id);
  const prompts = events.filter((e) => e.data.type === "prompt").map((e) => e.data.text ?? "");
  const said = events.filter((e) => e.data.type === "assistant").map((e) => e.data.text ?? "");
  const cut = (t: string) => (t.length > SUMMARY_CHARS ? `${t.slice(0, SUMMARY_CHARS)}\n[… cut]` : t);
  const lines = [
    `This continues the work of an earlier nightshift session (${parent.id}, routine ${parent.routine}) that can no longer be resumed. Its summary:`,
    "",
    "## What it was asked",
    "",
    cut(prompts[0]?.trim() || parent.input_text || "(not recorded)"),
    "",
    "## What its agent reported last",
    "",
    cut(said.at(-1)?.trim() || "(nothing)"),
  ];
  if (parent.branch)
    lines.push(
      "",
      `Its work is on branch \`${parent.branch}\`${parent.pr_number ? ` (pull request #${parent.pr_number})` : ""}; this session starts from the default branch.`,
    );
  lines.push("", "## New instructions", "", text.trim());
  return lines.join("\n");
}

/**
 * The follow-up queued for session `sessionId` (replies that arrived while it ran), run now in
 * this process — for the CLI's foreground when no daemon serves the project, so a reply sent
 * during a foreground session is not left waiting for one. Claims the run like a worker would
 * (a daemon started meanwhile does not get it too).
 *
 * @returns the finished follow-up session, or `undefined` when none was queued.
 */
export async function runQueuedFollowUp(
  project: Project,
  sessionId: string,
  opts: RunOptions = {},
): Promise<SessionRow | undefined> {
  const db = project.store.db;
  const owner = `foreground-${process.pid}-${randomId(6)}`;
  // No heartbeat in the foreground: a lease as long as a session may run.
  const leaseMs = 24 * 3_600_000;
  const run = await claimFollowUpRun(db, sessionId, { owner, now: project.clock.now(), leaseMs });
  if (!run) return undefined;
  const request = runRequestOf(run);
  try {
    const out = await runFollowUp(
      project,
      {
        parentSessionId: request?.parentSessionId ?? sessionId,
        text: request?.text ?? "",
        ...(request?.toolAnswer ? { toolAnswer: request.toolAnswer } : {}),
        trigger: run.trigger,
      },
      { ...opts, ...(run.session_id ? { sessionId: run.session_id } : {}) },
    );
    await finishRun(db, run.id, owner, {
      state: out.session?.state === "cancelled" ? "cancelled" : "done",
      now: project.clock.now(),
    });
    return out.session;
  } catch (err) {
    await finishRun(db, run.id, owner, {
      state: "failed",
      reason: (err as Error).message,
      now: project.clock.now(),
    });
    throw err;
  }
}
