import { loadRoutine } from "../config/load.ts";
import type { Project } from "../project.ts";
import { describeResult } from "../deque/run-result.ts";
import { runRoutineOnce } from "../deque/run-routine.ts";
import {
  claimNextRun,
  expiredRuns,
  finishRun,
  heartbeatRun,
  type RunRow,
  type RunRequestData,
  requeueRun,
  retryOrFailRun,
  runRequestOf,
  setRunSession,
} from "../store/runs.ts";
import { findSession, updateSession } from "../store/sessions.ts";
import type { InfraOutcome } from "../session/states.ts";
import { randomId } from "../util/ids.ts";

/**
 * Infrastructure outcomes worth another attempt: a workspace that could not be prepared, an
 * agent CLI that could not be spawned, a model API that could not be reached or answered 5xx
 * (`model_unreachable`), a delivery (push, PR) that failed — things a second try can fix.
 * A killed runner is retried too, through its expired lease. Not retried: the agent's own
 * failures, and deterministic ones — `internal_error` (a bug or bad input: retrying only
 * hides it), `missing_credentials`, `environment_error`, `timeout`, `cancelled`.
 */
const RETRYABLE: readonly InfraOutcome[] = [
  "workspace_error",
  "agent_spawn_error",
  "model_unreachable",
  "delivery_error",
];

/**
 * The abort reason of a graceful shutdown. A run whose session it stopped goes back to the
 * queue (attempt not counted); any other abort (the `replace` overlap policy, a lost lease, a
 * person cancelling) leaves the run cancelled.
 */
const SHUTDOWN = new Error("stopped by daemon shutdown");

/** Why a run stopped by a shutdown was put back, as the run and its session record it. */
export const SHUTDOWN_REQUEUE_REASON = "stopped by daemon shutdown; requeued";

/** Settings of a {@link WorkerPool}. Durations in ms. */
export interface WorkerPoolOptions {
  /** Sessions at once, all routines together. */
  concurrency: number;
  /** How long a claim holds without a heartbeat; a dead worker's runs are reclaimed after it. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** How often to look for work when idle. */
  pollMs?: number;
  /** Delay before attempt n+1 after an infrastructure failure. */
  backoffMs?(attempt: number): number;
  /** Environment the agents' credentials come from. */
  hostEnv?: NodeJS.ProcessEnv;
  log?(level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>): void;
}

/** Lifecycle events a test or the server can wait on. */
export interface WorkerPoolEvents {
  claimed(run: RunRow): void;
  finished(run: RunRow, outcome: "done" | "retry" | "failed" | "cancelled" | "requeued"): void;
}

/**
 * Runs queued runs as sessions: claims them with a lease, keeps the lease alive with
 * heartbeats while the session runs, and records the end. Runs whose lease expired (their
 * worker was killed) are put back for another attempt, with backoff, until their attempts are
 * used up. Infrastructure failures are retried; the agent's own failures are not. Runs whose
 * sessions a graceful {@link WorkerPool.stop} cut short go back to the queue uncounted.
 */
export class WorkerPool {
  readonly owner = `worker-${process.pid}-${randomId(6)}`;
  readonly #project: Project;
  readonly #opts: Required<Omit<WorkerPoolOptions, "hostEnv" | "log">> &
    Pick<WorkerPoolOptions, "hostEnv" | "log">;
  readonly #active = new Map<string, { run: RunRow; abort: AbortController; done: Promise<void> }>();
  readonly #listeners: Partial<{ [K in keyof WorkerPoolEvents]: WorkerPoolEvents[K][] }> = {};
  #stopping = false;
  #cancelPoll: (() => void) | undefined;
  #polling: Promise<void> | undefined;

  constructor(project: Project, opts: WorkerPoolOptions) {
    this.#project = project;
    this.#opts = {
      leaseMs: 60_000,
      heartbeatMs: 15_000,
      pollMs: 1_000,
      backoffMs: (attempt) => Math.min(60_000 * 2 ** (attempt - 1), 15 * 60_000),
      ...opts,
    };
  }

  on<K extends keyof WorkerPoolEvents>(event: K, fn: WorkerPoolEvents[K]): void {
    ((this.#listeners[event] ??= []) as WorkerPoolEvents[K][]).push(fn);
  }

  #emit<K extends keyof WorkerPoolEvents>(event: K, ...args: Parameters<WorkerPoolEvents[K]>): void {
    for (const fn of this.#listeners[event] ?? []) (fn as (...a: unknown[]) => void)(...args);
  }

  /** Runs in progress in this pool. */
  get active(): number {
    return this.#active.size;
  }

  /** Starts polling for work. */
  start(): void {
    this.#schedulePoll(0);
  }

  #schedulePoll(ms: number): void {
    if (this.#stopping) return;
    this.#cancelPoll = this.#project.clock.setTimer(ms, () => {
      this.#polling = this.poll()
        .then(() => undefined)
        .catch((err: unknown) => this.#opts.log?.("error", "poll failed", { error: String(err) }))
        .finally(() => this.#schedulePoll(this.#opts.pollMs));
    });
  }

  /**
   * One round: reclaims expired leases, then claims runs while there is capacity.
   * @returns the runs started in this round.
   */
  async poll(): Promise<RunRow[]> {
    const { db } = this.#project.store;
    const now = this.#project.clock.now();
    for (const run of await expiredRuns(db, now)) {
      // Our own run whose heartbeat fell behind (a busy machine): renew it, do not retry it.
      if (run.lease_owner === this.owner && this.#active.has(run.id)) {
        await heartbeatRun(db, run.id, this.owner, now, this.#opts.leaseMs);
        continue;
      }
      const result = await retryOrFailRun(db, run, null, {
        now,
        backoffMs: this.#opts.backoffMs(run.attempt),
        reason: `the worker's lease expired (worker ${run.lease_owner} stopped or hung) during attempt ${run.attempt}`,
      });
      this.#opts.log?.("warn", "reclaimed a run whose lease expired", {
        run: run.id,
        routine: run.routine,
        result,
      });
    }
    const started: RunRow[] = [];
    while (!this.#stopping && this.#active.size < this.#opts.concurrency) {
      const run = await claimNextRun(db, {
        owner: this.owner,
        now: this.#project.clock.now(),
        leaseMs: this.#opts.leaseMs,
      });
      if (!run) break;
      started.push(run);
      this.#startRun(run);
    }
    return started;
  }

  #startRun(run: RunRow): void {
    const abort = new AbortController();
    const entry = { run, abort, done: Promise.resolve() };
    this.#active.set(run.id, entry);
    this.#emit("claimed", run);
    entry.done = this.#execute(run, abort).finally(() => this.#active.delete(run.id));
  }

  async #execute(run: RunRow, abort: AbortController): Promise<void> {
    const { db } = this.#project.store;
    const clock = this.#project.clock;
    let cancelBeat: (() => void) | undefined;
    const beat = () => {
      cancelBeat = clock.setTimer(this.#opts.heartbeatMs, () => {
        void heartbeatRun(db, run.id, this.owner, clock.now(), this.#opts.leaseMs).then((held) => {
          if (held) beat();
          else abort.abort();
        });
      });
    };
    beat();
    try {
      const request = runRequestOf(run);
      if (request) {
        await this.#executeRequest(run, request, abort, () => cancelBeat?.());
        return;
      }
      const routine = loadRoutine(this.#project.root, run.routine);
      const issue =
        run.issue_number !== null
          ? await this.#project.forge.getIssue(this.#project.repoName, run.issue_number)
          : undefined;
      // The first attempt uses the session id announced when the run was fired, unless a
      // session already has it (an attempt stopped by a shutdown, requeued uncounted).
      const announced =
        run.attempt === 1 && run.session_id ? await findSession(db, run.session_id) : undefined;
      const sessionId = run.attempt === 1 && run.session_id && !announced ? run.session_id : undefined;
      const result = await runRoutineOnce(this.#project, routine, {
        trigger: run.trigger,
        signal: abort.signal,
        ...(sessionId ? { sessionId } : {}),
        ...(run.context ? { text: run.context } : {}),
        ...(issue ? { issue } : {}),
        ...(this.#opts.hostEnv ? { hostEnv: this.#opts.hostEnv } : {}),
        onCreated: (id) => void setRunSession(db, run.id, id),
      });
      cancelBeat?.();
      const now = clock.now();
      // A deque run may run several sessions: the first cancelled or retryable one decides.
      const session =
        result.sessions.find(
          (s) => s.state === "cancelled" || (s.infra_outcome && RETRYABLE.includes(s.infra_outcome)),
        ) ?? result.sessions.at(-1);
      const cut = result.sessions.filter((s) => s.state === "cancelled");
      // Stopped by a shutdown, not by a person: the run goes back to the queue, uncounted. A
      // deque run is re-run even when no session was cut (it stops between items); its ledger
      // and claims make a re-run skip what is done.
      if (abort.signal.reason === SHUTDOWN && (cut.length > 0 || routine.workflow)) {
        const reason = `${SHUTDOWN_REQUEUE_REASON} (run ${run.id}; attempt ${run.attempt} not counted)`;
        for (const s of cut) await updateSession(db, s.id, { reason });
        await requeueRun(db, run.id, this.owner, { now, reason });
        this.#opts.log?.("info", "run requeued after shutdown", { run: run.id, routine: run.routine });
        this.#emit("finished", run, "requeued");
      } else if (!session) {
        await finishRun(db, run.id, this.owner, { state: "done", reason: describeResult(result), now });
        this.#emit("finished", run, "done");
      } else if (session.state === "cancelled") {
        await finishRun(db, run.id, this.owner, {
          state: "cancelled",
          reason: session.reason ?? "cancelled",
          now,
        });
        this.#emit("finished", run, "cancelled");
      } else if (session.infra_outcome && RETRYABLE.includes(session.infra_outcome)) {
        const result = await retryOrFailRun(db, run, this.owner, {
          now,
          backoffMs: this.#opts.backoffMs(run.attempt),
          reason: session.reason ?? session.infra_outcome,
        });
        this.#emit("finished", run, result);
      } else {
        await finishRun(db, run.id, this.owner, { state: "done", now });
        this.#emit("finished", run, "done");
      }
    } catch (err) {
      cancelBeat?.();
      // Bad configuration (a deleted routine, an unknown issue) will not fix itself: no retry.
      await finishRun(db, run.id, this.owner, {
        state: "failed",
        reason: (err as Error).message,
        now: clock.now(),
      });
      this.#opts.log?.("error", "run could not start", { run: run.id, error: (err as Error).message });
      this.#emit("finished", run, "failed");
    }
  }

  /**
   * A run that carries a request (store/runs.ts `RunRequestData`): a follow-up of a finished
   * session (src/runner/follow-up.ts) or a dispatch (src/runner/dispatch.ts). One session, no
   * retry (its failures are the agent's, or the parent's workspace is gone); a shutdown puts it
   * back like any run. Errors (a gone routine, a session past its resume window) fail the run.
   */
  async #executeRequest(
    run: RunRow,
    request: RunRequestData,
    abort: AbortController,
    stopBeat: () => void,
  ): Promise<void> {
    const { db } = this.#project.store;
    const clock = this.#project.clock;
    const announced = run.attempt === 1 && run.session_id ? await findSession(db, run.session_id) : undefined;
    const sessionId = run.attempt === 1 && run.session_id && !announced ? run.session_id : undefined;
    const opts = {
      signal: abort.signal,
      ...(sessionId ? { sessionId } : {}),
      ...(this.#opts.hostEnv ? { hostEnv: this.#opts.hostEnv } : {}),
      onCreated: (id: string) => void setRunSession(db, run.id, id),
    };
    let session;
    let reason: string | undefined;
    if (request.kind === "follow_up") {
      const { runFollowUp } = await import("../runner/follow-up.ts");
      const out = await runFollowUp(
        this.#project,
        {
          parentSessionId: request.parentSessionId ?? "",
          text: request.text ?? "",
          ...(request.toolAnswer ? { toolAnswer: request.toolAnswer } : {}),
          trigger: run.trigger,
        },
        opts,
      );
      session = out.session;
      if (out.storedOn) reason = `session ${out.storedOn} was running: the reply waits for it as a message`;
    } else {
      const { runDispatch } = await import("../runner/dispatch.ts");
      session = await runDispatch(
        this.#project,
        {
          prompt: request.prompt ?? "",
          ...(request.routine ? { routine: request.routine } : {}),
          ...(request.agent ? { agent: request.agent } : {}),
          ...(request.model ? { model: request.model } : {}),
          ...(request.repos ? { repos: request.repos } : {}),
        },
        opts,
      );
    }
    stopBeat();
    const now = clock.now();
    if (session?.state === "cancelled" && abort.signal.reason === SHUTDOWN) {
      const why = `${SHUTDOWN_REQUEUE_REASON} (run ${run.id}; attempt ${run.attempt} not counted)`;
      await updateSession(db, session.id, { reason: why });
      await requeueRun(db, run.id, this.owner, { now, reason: why });
      this.#emit("finished", run, "requeued");
    } else if (session?.state === "cancelled") {
      await finishRun(db, run.id, this.owner, {
        state: "cancelled",
        reason: session.reason ?? "cancelled",
        now,
      });
      this.#emit("finished", run, "cancelled");
    } else {
      await finishRun(db, run.id, this.owner, { state: "done", ...(reason ? { reason } : {}), now });
      this.#emit("finished", run, "done");
    }
  }

  /**
   * Stops run `runId` now if this pool is running it (a person cancelled it; the run is
   * already marked cancelled in the store). Other pools stop theirs at their next heartbeat.
   * @returns whether this pool was running it.
   */
  cancelRun(runId: string): boolean {
    const entry = this.#active.get(runId);
    entry?.abort.abort();
    return entry !== undefined;
  }

  /**
   * Stops this pool's running sessions of `routine` now (the `replace` overlap policy).
   * @returns how many it stopped.
   */
  cancelRoutine(routine: string): number {
    let n = 0;
    for (const { run, abort } of this.#active.values()) {
      if (run.routine === routine) {
        abort.abort();
        n++;
      }
    }
    return n;
  }

  /**
   * Stops claiming, lets running sessions finish within `graceMs`, then stops the rest and
   * waits for them to be recorded: their runs go back to the queue with the attempt not
   * counted ({@link SHUTDOWN_REQUEUE_REASON}), to run again on the next start.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#cancelPoll?.();
    let timedOut = false;
    const cancel = this.#project.clock.setTimer(graceMs, () => {
      timedOut = true;
      for (const a of this.#active.values()) a.abort.abort(SHUTDOWN);
    });
    await this.#polling;
    await Promise.all([...this.#active.values()].map((a) => a.done));
    cancel();
    if (timedOut)
      this.#opts.log?.(
        "warn",
        "shutdown grace ran out: running sessions were stopped and their runs requeued",
      );
  }
}
