import { hostname } from "node:os";
import type { Kysely } from "kysely";
import type { Routine } from "../../config/routine-schema.ts";
import type { Issue } from "../../forge/types.ts";
import type { Project } from "../../project.ts";
import type { SessionState } from "../../session/states.ts";
import type { Database, SessionRow } from "../../store/schema.ts";
import { findSession, insertSession, setSessionState } from "../../store/sessions.ts";
import type { Clock } from "../../util/clock.ts";
import { randomId } from "../../util/ids.ts";
import { type Redactor, redactorFromEnv } from "../../util/redact.ts";
import type { SessionEnd } from "../agent-pass.ts";
import { formatReason } from "../reason.ts";
import { TranscriptRecorder, type TranscriptListener } from "../transcript/recorder.ts";
import type { SessionWork } from "../work.ts";
import { removeExpiredWorkspaces } from "../workspace/retention.ts";
import { queuePendingReplies } from "./replies.ts";

export type { SessionEnd } from "../agent-pass.ts";

/** One request to run a routine. */
export interface RunRequest {
  routine: Routine;
  /** Run-specific context (`--text`, an API call's `text`). */
  text?: string;
  /** The issue this session works on; its title and body go into the prompt. */
  issue?: Issue;
  /** What started the session: `manual`, `schedule`, `api`, `github`, `webhook`. */
  trigger?: string;
  /** Aborting cancels the session: the agent's process group is stopped. */
  signal?: AbortSignal;
  /** Called after each transcript event is stored. */
  onEvent?: TranscriptListener;
  /** Environment the agent's credentials come from; defaults to `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
  /** Called once the session exists, with its id. */
  onCreated?(sessionId: string): void;
  /** Use this id for the session (an API fire answers it before the session starts). */
  sessionId?: string;
  /** Set by deque routines: branch, PR to continue, prompt sections, steps after the agent. */
  work?: SessionWork;
  /**
   * Continue `parent` (a follow-up, src/runner/follow-up.ts): its workspace, branch and PR are
   * reused, the agent resumes its conversation with `text` as the prompt.
   */
  followUp?: FollowUpInput;
  /** A short title for lists (a dispatch's first prompt line). */
  title?: string;
}

/** What a follow-up session continues, and with what. */
export interface FollowUpInput {
  /** The session continued: finished, with its workspace still there. */
  parent: SessionRow;
  /** The new instructions: the prompt of the follow-up's agent pass. */
  text: string;
  /** Answers to a question the agent asked (by question text), for the adapter's resume. */
  toolAnswer?: Record<string, string>;
}

/**
 * What a phase returns: `next`, the next phase's input, or `end`, how the session ends (the
 * driver records it and stops).
 */
export type PhaseResult<T> = { next: T; end?: undefined } | { end: SessionEnd };

/**
 * One session in progress, shared by its phases: the request, the store, the transcript and
 * the deadline. `startedAt` is when the session moved to `running` (its creation until then).
 */
export class SessionContext {
  readonly project: Project;
  readonly req: RunRequest;
  readonly routine: Routine;
  readonly work: SessionWork;
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly hostEnv: NodeJS.ProcessEnv;
  readonly id: string;
  readonly createdAt: number;
  readonly transcript: TranscriptRecorder;
  /**
   * One deadline for the whole session (ms since the epoch): setup, every agent pass, the test
   * step and delivery share the routine's timeout, counted from the moment the session
   * starts preparing.
   */
  readonly deadline: number;
  #startedAt: number;

  private constructor(project: Project, req: RunRequest, id: string, createdAt: number) {
    this.project = project;
    this.req = req;
    this.routine = req.routine;
    this.work = req.work ?? {};
    this.db = project.store.db;
    this.clock = project.clock;
    this.hostEnv = req.hostEnv ?? process.env;
    this.id = id;
    this.createdAt = createdAt;
    this.#startedAt = createdAt;
    this.deadline = createdAt + req.routine.timeout;
    this.transcript = new TranscriptRecorder(this.db, id, this.clock, {
      ...(req.onEvent ? { listener: req.onEvent } : {}),
      redactor: sessionRedactor(project, this.hostEnv),
      limits: {
        eventBytes: project.config.limits.event_bytes,
        transcriptBytes: project.config.limits.transcript_bytes,
      },
    });
  }

  /**
   * Stores the new session (`queued`), tells `req.onCreated`, and opens its transcript.
   */
  static async open(project: Project, req: RunRequest): Promise<SessionContext> {
    const work: SessionWork = req.work ?? {};
    const id = req.sessionId ?? randomId();
    const createdAt = project.clock.now();
    await insertSession(project.store.db, {
      id,
      routine: req.routine.name,
      agent: req.routine.agent,
      model: req.routine.model ?? null,
      trigger: req.trigger ?? "manual",
      issueNumber: work.itemNumber ?? req.issue?.number ?? null,
      inputText: req.text ?? req.followUp?.text ?? null,
      parentSessionId: req.followUp?.parent.id ?? null,
      title: req.title ?? null,
      createdAt,
      runner: { host: hostname(), pid: process.pid },
    });
    req.onCreated?.(id);
    return new SessionContext(project, req, id, createdAt);
  }

  /** When the session moved to `running`; its creation time before that. */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** Time left before {@link deadline}, at least 1 ms. */
  remaining(): number {
    return Math.max(1, this.deadline - this.clock.now());
  }

  /** `text` with the session's secrets redacted. */
  redact(text: string): string {
    return this.transcript.redactor.redact(text);
  }

  /** Moves the session to `state` (`running` sets {@link startedAt}) and records it. */
  async setState(state: SessionState, detail?: string): Promise<void> {
    if (state === "running") this.#startedAt = this.clock.now();
    await setSessionState(
      this.db,
      this.id,
      state,
      state === "running" ? { started_at: this.#startedAt } : {},
    );
    await this.transcript.record({ type: "state", state, ...(detail ? { detail } : {}) });
  }

  /**
   * Ends the session as `f` says: its final state, outcomes and reason stored, the reason
   * recorded as an error unless it succeeded, expired workspaces removed.
   * @returns the session's final record.
   */
  async finish(f: SessionEnd): Promise<SessionRow> {
    await setSessionState(this.db, this.id, f.state, {
      infra_outcome: f.infra,
      task_outcome: f.task ?? null,
      reason: f.reason ? formatReason(f.reason, this.transcript.redactor) : null,
      finished_at: this.clock.now(),
      runner_pid: null,
      agent_pid: null,
    });
    if (f.reason && f.state !== "succeeded")
      await this.transcript.record({ type: "error", message: f.reason });
    await this.transcript.record({
      type: "state",
      state: f.state,
      ...(f.reason ? { detail: f.reason } : {}),
    });
    const { retention, resume_window } = this.project.config.workspaces;
    await removeExpiredWorkspaces(this.db, retention, this.clock.now(), resume_window ?? 0);
    // Replies that arrived while it ran: a follow-up, queued now that its turn is over.
    const queued = await queuePendingReplies(
      this.db,
      { id: this.id, routine: this.routine.name },
      this.clock.now(),
    );
    if (queued)
      await this.transcript.record({
        type: "warning",
        message: `replies received while the session ran were queued as follow-up session ${queued.sessionId} (run ${queued.runId})`,
      });
    return (await findSession(this.db, this.id))!;
  }
}

/**
 * The secrets a session must never show: model and forge credentials, the variables named
 * in `redact_env`, and the project's webhook secrets — by value — plus common token shapes.
 */
function sessionRedactor(project: Project, hostEnv: NodeJS.ProcessEnv): Redactor {
  const hooks = Object.values(project.config.webhooks).flatMap((w) => {
    const o = (w ?? {}) as {
      secrets_env?: string[];
      auth?: { hmac?: { secret_env?: string }; bearer?: { token_env?: string } };
    };
    return [...(o.secrets_env ?? []), o.auth?.hmac?.secret_env, o.auth?.bearer?.token_env].filter(
      (n): n is string => !!n,
    );
  });
  const forgeToken = project.config.forge.type === "github" ? [project.config.forge.token_env] : [];
  const names = [...project.config.redact_env, ...hooks, ...forgeToken];
  return redactorFromEnv(hostEnv, names);
}
