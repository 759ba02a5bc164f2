import type { Kysely } from "kysely";
import type { Routine } from "../config/routine-schema.ts";
import { decideOverlap } from "../scheduler/overlap.ts";
import { insertRun, routineRunCounts } from "../store/runs.ts";
import type { Database } from "../store/schema.ts";
import { randomId } from "../util/ids.ts";

/** One trigger firing for one routine. */
export interface FireRequest {
  routine: Routine;
  /** `schedule` | `once` | `api` | `github` | `webhook` | `manual` */
  trigger: string;
  /** Unique per routine: the slot, the delivery, the idempotency key. A repeat is a no-op. */
  dedupeKey: string;
  scheduledFor?: number;
  /** Run-specific text for the prompt. */
  context?: string;
  issueNumber?: number;
  /**
   * Record the fire as `skipped` with this reason instead of queueing it: a fire that must
   * not start a session but must not vanish either (a GitHub delivery by an untrusted author).
   */
  skipReason?: string;
  now: number;
}

/** What a fire did. `sessionId` is the id the session will have once a worker starts it. */
export interface FireResult {
  runId: string;
  outcome: "queued" | "skipped" | "duplicate";
  sessionId?: string;
  reason?: string;
  /** Sessions cancelled to make room (the `replace` policy). */
  replaced?: number;
}

/**
 * Records a fire durably, applying the routine's overlap policy against the runs already in
 * progress or waiting: `allow` queues beside them, `forbid` records the fire as skipped,
 * `replace` cancels the running session (through `cancelRunning`) and queues, `queue-one`
 * queues one run behind the running one and skips beyond that. A fire whose dedupe key was
 * seen before changes nothing. A fire with a `skipReason` is only recorded, as `skipped`.
 */
export async function fireRoutine(
  db: Kysely<Database>,
  req: FireRequest,
  opts: { cancelRunning?(routine: string): number } = {},
): Promise<FireResult> {
  if (req.skipReason !== undefined) {
    const r = await insertRun(db, {
      routine: req.routine.name,
      trigger: req.trigger,
      dedupeKey: req.dedupeKey,
      maxRunning: maxRunningFor(req.routine),
      now: req.now,
      state: "skipped",
      reason: req.skipReason,
    });
    return { runId: r.id, outcome: r.inserted ? "skipped" : "duplicate", reason: req.skipReason };
  }
  // `allow` never looks at what is running: no need to count (it grows with the backlog).
  const counts =
    req.routine.overlap === "allow"
      ? { running: 0, pending: 0 }
      : await routineRunCounts(db, req.routine.name);
  const decision = decideOverlap(req.routine.overlap, { running: counts.running, queued: counts.pending });
  const base = {
    routine: req.routine.name,
    trigger: req.trigger,
    dedupeKey: req.dedupeKey,
    maxRunning: maxRunningFor(req.routine),
    now: req.now,
    ...(req.scheduledFor !== undefined ? { scheduledFor: req.scheduledFor } : {}),
    ...(req.context !== undefined ? { context: req.context } : {}),
    ...(req.issueNumber !== undefined ? { issueNumber: req.issueNumber } : {}),
  };
  if (decision === "skip") {
    const reason =
      req.routine.overlap === "queue-one"
        ? "overlap policy queue-one: a session is running and another is already queued"
        : "overlap policy forbid: a session of this routine is still running";
    const r = await insertRun(db, { ...base, state: "skipped", reason });
    return { runId: r.id, outcome: r.inserted ? "skipped" : "duplicate", reason };
  }
  const sessionId = randomId();
  const r = await insertRun(db, { ...base, sessionId });
  if (!r.inserted) return { runId: r.id, outcome: "duplicate" };
  const replaced = decision === "replace" ? (opts.cancelRunning?.(req.routine.name) ?? 0) : 0;
  return { runId: r.id, outcome: "queued", sessionId, ...(replaced ? { replaced } : {}) };
}

/**
 * How many sessions of a routine may run at once: one, unless its overlap policy is `allow`,
 * where `max_concurrent` applies (0: no limit).
 */
export function maxRunningFor(routine: Routine): number {
  return routine.overlap === "allow" ? routine.max_concurrent : 1;
}
