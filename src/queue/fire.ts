import type { Kysely } from "kysely";
import type { Routine } from "../config/routine-schema.ts";
import { decideOverlap } from "../scheduler/overlap.ts";
import {
  existingRunKeys,
  insertRun,
  insertRuns,
  type NewRun,
  routineRunCounts,
  routinesRunCounts,
  runKey,
} from "../store/runs.ts";
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
   * not start a session but must not vanish either (a GitHub delivery by an untrusted author,
   * a fire of a paused routine). Its `scheduledFor` is kept; context and issue are not.
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

/** The run row a fire request asks for, before the overlap policy decides its state. */
function newRunOf(req: FireRequest): NewRun {
  return {
    routine: req.routine.name,
    trigger: req.trigger,
    dedupeKey: req.dedupeKey,
    maxRunning: maxRunningFor(req.routine),
    now: req.now,
    ...(req.scheduledFor !== undefined ? { scheduledFor: req.scheduledFor } : {}),
    ...(req.context !== undefined ? { context: req.context } : {}),
    ...(req.issueNumber !== undefined ? { issueNumber: req.issueNumber } : {}),
  };
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
      ...(req.scheduledFor !== undefined ? { scheduledFor: req.scheduledFor } : {}),
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
  const base = newRunOf(req);
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

/**
 * {@link fireRoutine} for many fires in a few statements, whatever their number: one query
 * counts the runs in progress of the routines whose overlap policy needs it, one finds the
 * dedupe keys already stored, one inserts every new run. The outcome of each fire is the one
 * calling `fireRoutine` for each request in order would give: a request sees the runs the
 * requests before it queued (a second slot of a `queue-one` routine is skipped), and a repeated
 * dedupe key is a `duplicate`. Run it inside a transaction that holds the write lock (`BEGIN
 * IMMEDIATE`) so no other writer changes the counts between the reads and the insert; the unique
 * (routine, dedupe key) keeps each key to one run in any case.
 *
 * @returns one result per request, in order.
 */
export async function fireRoutines(
  db: Kysely<Database>,
  reqs: readonly FireRequest[],
  opts: { cancelRunning?(routine: string): number } = {},
): Promise<FireResult[]> {
  if (reqs.length === 0) return [];
  const counted = reqs.filter((r) => r.skipReason === undefined && r.routine.overlap !== "allow");
  const counts = await routinesRunCounts(
    db,
    counted.map((r) => r.routine.name),
  );
  const existing = await existingRunKeys(
    db,
    reqs.map((r) => ({ routine: r.routine.name, dedupeKey: r.dedupeKey })),
  );
  const planned: { key: string; run: NewRun; result: Omit<FireResult, "runId">; replace: boolean }[] = [];
  const results: (FireResult | { planned: number } | { repeatOf: string })[] = [];
  const inBatch = new Set<string>();
  for (const req of reqs) {
    const key = runKey(req.routine.name, req.dedupeKey);
    const id = existing.get(key);
    if (id !== undefined) {
      results.push({ runId: id, outcome: "duplicate" });
      continue;
    }
    if (inBatch.has(key)) {
      results.push({ repeatOf: key });
      continue;
    }
    inBatch.add(key);
    const base = newRunOf(req);
    let entry: (typeof planned)[number];
    if (req.skipReason !== undefined) {
      // As fireRoutine: a skipped fire records its slot time (a paused schedule), no context or issue.
      const skipped: NewRun = {
        routine: base.routine,
        trigger: base.trigger,
        dedupeKey: base.dedupeKey,
        maxRunning: base.maxRunning,
        now: base.now,
        ...(req.scheduledFor !== undefined ? { scheduledFor: req.scheduledFor } : {}),
      };
      entry = {
        key,
        run: { ...skipped, state: "skipped", reason: req.skipReason },
        result: { outcome: "skipped", reason: req.skipReason },
        replace: false,
      };
    } else {
      const c = counts.get(req.routine.name) ?? { running: 0, pending: 0 };
      const decision = decideOverlap(req.routine.overlap, { running: c.running, queued: c.pending });
      if (decision === "skip") {
        const reason =
          req.routine.overlap === "queue-one"
            ? "overlap policy queue-one: a session is running and another is already queued"
            : "overlap policy forbid: a session of this routine is still running";
        entry = {
          key,
          run: { ...base, state: "skipped", reason },
          result: { outcome: "skipped", reason },
          replace: false,
        };
      } else {
        const sessionId = randomId();
        c.pending++; // the next fire of this routine sees this one waiting
        entry = {
          key,
          run: { ...base, sessionId },
          result: { outcome: "queued", sessionId },
          replace: decision === "replace",
        };
      }
    }
    planned.push(entry);
    results.push({ planned: planned.length - 1 });
  }
  const inserted = await insertRuns(
    db,
    planned.map((p) => p.run),
  );
  // Keys another writer stored between the lookup and the insert (no write lock held).
  const lost = planned.filter((p) => !inserted.has(p.key));
  const lostIds = lost.length
    ? await existingRunKeys(
        db,
        lost.map((p) => ({ routine: p.run.routine, dedupeKey: p.run.dedupeKey })),
      )
    : new Map<string, string>();
  const idOf = (key: string) => inserted.get(key) ?? lostIds.get(key) ?? "";
  return results.map((r): FireResult => {
    // A key repeated within the batch is a duplicate of its first occurrence.
    if ("repeatOf" in r) return { runId: idOf(r.repeatOf), outcome: "duplicate" };
    if (!("planned" in r)) return r;
    const p = planned[r.planned]!;
    const id = inserted.get(p.key);
    if (id === undefined) return { runId: idOf(p.key), outcome: "duplicate" };
    if (p.result.outcome !== "queued") return { runId: id, ...p.result };
    const replaced = p.replace ? (opts.cancelRunning?.(p.run.routine) ?? 0) : 0;
    return { runId: id, ...p.result, ...(replaced ? { replaced } : {}) };
  });
}
