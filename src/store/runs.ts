import { type Kysely, type Selectable, sql } from "kysely";
import { randomId } from "../util/ids.ts";
import type { Database, RunState, RunsTable } from "./schema.ts";

/** A run as read from the store. */
export type RunRow = Selectable<RunsTable>;

/**
 * What a queued run asks for beyond running its routine (stored as JSON in `runs.request`):
 * a follow-up of a finished session (`parentSessionId`, `text`; `toolAnswer`: the answers to
 * a question the agent asked, by question text), or a dispatch (an ad-hoc session: `prompt`,
 * optional `agent`, `model`, `repos`, `title`; `routine: null` when it runs with the
 * project's defaults rather than a routine's settings).
 */
export interface RunRequestData {
  kind: "follow_up" | "dispatch";
  parentSessionId?: string;
  text?: string;
  toolAnswer?: Record<string, string>;
  prompt?: string;
  routine?: string | null;
  agent?: string;
  model?: string;
  repos?: string[];
  title?: string;
}

/**
 * The request a run carries, or `undefined` for a plain run.
 * @throws {Error} when the stored JSON is not a request (a damaged row).
 */
export function runRequestOf(run: Pick<RunRow, "id" | "request">): RunRequestData | undefined {
  if (!run.request) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(run.request);
  } catch (err) {
    throw new Error(`run ${run.id}: its stored request is not JSON`, { cause: err });
  }
  const kind = (data as { kind?: unknown } | null)?.kind;
  if (kind !== "follow_up" && kind !== "dispatch")
    throw new Error(`run ${run.id}: its stored request has no known kind (follow_up or dispatch)`);
  return data as RunRequestData;
}

/** A fire to record. `state` is `pending` for work, or `skipped`/`missed` for a slot that only gets recorded. */
export interface NewRun {
  routine: string;
  trigger: string;
  dedupeKey: string;
  scheduledFor?: number;
  state?: "pending" | "skipped" | "missed";
  reason?: string;
  context?: string;
  issueNumber?: number;
  /** At most this many runs of the routine at once for this one to start (0: no limit). */
  maxRunning: number;
  maxAttempts?: number;
  /** The id the first attempt's session will have (announced to API callers). */
  sessionId?: string;
  /** A follow-up or dispatch this run carries (see {@link RunRequestData}). */
  request?: RunRequestData;
  now: number;
}

/**
 * Records a fire, once: a second insert with the same (routine, dedupe key) — another
 * scheduler instance, a clock set back, a redelivered webhook — changes nothing.
 *
 * @returns whether this call inserted it, and the run's id (the existing one if not).
 */
export async function insertRun(db: Kysely<Database>, r: NewRun): Promise<{ inserted: boolean; id: string }> {
  const id = randomId(12);
  const result = await db
    .insertInto("runs")
    .values({
      id,
      routine: r.routine,
      trigger: r.trigger,
      dedupe_key: r.dedupeKey,
      scheduled_for: r.scheduledFor ?? null,
      state: r.state ?? "pending",
      reason: r.reason ?? null,
      context: r.context ?? null,
      issue_number: r.issueNumber ?? null,
      max_running: r.maxRunning,
      attempt: 0,
      max_attempts: r.maxAttempts ?? 2,
      available_at: r.now,
      lease_owner: null,
      lease_expires_at: null,
      session_id: r.sessionId ?? null,
      ...(r.request ? { request: JSON.stringify(r.request) } : {}),
      created_at: r.now,
      started_at: null,
      finished_at: r.state && r.state !== "pending" ? r.now : null,
    })
    .onConflict((oc) => oc.columns(["routine", "dedupe_key"]).doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return { inserted: true, id };
  const existing = await db
    .selectFrom("runs")
    .select("id")
    .where("routine", "=", r.routine)
    .where("dedupe_key", "=", r.dedupeKey)
    .executeTakeFirstOrThrow();
  return { inserted: false, id: existing.id };
}

/**
 * Atomically leases the next claimable run to `owner` for `leaseMs`, counting an attempt:
 * the oldest `pending` run that is available, skipping runs whose routine already has
 * `max_running` runs in progress. One UPDATE statement, so two workers never get the same run.
 */
export async function claimNextRun(
  db: Kysely<Database>,
  opts: { owner: string; now: number; leaseMs: number },
): Promise<RunRow | undefined> {
  const { rows } = await sql<RunRow>`
    UPDATE runs
       SET state = 'running', lease_owner = ${opts.owner}, lease_expires_at = ${opts.now + opts.leaseMs},
           attempt = attempt + 1, started_at = ${opts.now}
     WHERE id = (
       SELECT r.id FROM runs r
        WHERE r.state = 'pending' AND r.available_at <= ${opts.now}
          AND (r.max_running = 0 OR r.max_running > (
            SELECT count(*) FROM runs o WHERE o.routine = r.routine AND o.state = 'running'))
        ORDER BY r.available_at, r.created_at, r.id
        LIMIT 1)
       AND state = 'pending'
    RETURNING *`.execute(db);
  return rows[0];
}

/**
 * Leases the pending follow-up run of session `parentId` (dedupe key `follow-up-of:<id>…`,
 * see runner/session/replies.ts) to `owner`, as {@link claimNextRun} does: one UPDATE, so a
 * worker and a foreground command never both get it.
 *
 * @returns the claimed run, or `undefined` when none is pending.
 */
export async function claimFollowUpRun(
  db: Kysely<Database>,
  parentId: string,
  opts: { owner: string; now: number; leaseMs: number },
): Promise<RunRow | undefined> {
  const key = `follow-up-of:${parentId}`;
  const { rows } = await sql<RunRow>`
    UPDATE runs
       SET state = 'running', lease_owner = ${opts.owner}, lease_expires_at = ${opts.now + opts.leaseMs},
           attempt = attempt + 1, started_at = ${opts.now}
     WHERE id = (
       SELECT r.id FROM runs r
        WHERE r.state = 'pending' AND (r.dedupe_key = ${key} OR r.dedupe_key LIKE ${`${key}:%`})
        ORDER BY r.created_at, r.id
        LIMIT 1)
       AND state = 'pending'
    RETURNING *`.execute(db);
  return rows[0];
}

/** Extends a lease held by `owner`. @returns false when the lease was lost (reclaimed by another worker). */
export async function heartbeatRun(
  db: Kysely<Database>,
  id: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const r = await db
    .updateTable("runs")
    .set({ lease_expires_at: now + leaseMs })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .where("state", "=", "running")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Links the session a run started. */
export async function setRunSession(db: Kysely<Database>, id: string, sessionId: string): Promise<void> {
  await db.updateTable("runs").set({ session_id: sessionId }).where("id", "=", id).execute();
}

/** Ends a run held by `owner`. */
export async function finishRun(
  db: Kysely<Database>,
  id: string,
  owner: string,
  end: { state: Extract<RunState, "done" | "failed" | "cancelled">; reason?: string; now: number },
): Promise<void> {
  await db
    .updateTable("runs")
    .set({
      state: end.state,
      reason: end.reason ?? null,
      finished_at: end.now,
      lease_owner: null,
      lease_expires_at: null,
    })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}

/**
 * Puts a run back for another attempt after an infrastructure failure, after `backoffMs`,
 * or fails it when its attempts are used up.
 */
export async function retryOrFailRun(
  db: Kysely<Database>,
  run: Pick<RunRow, "id" | "attempt" | "max_attempts">,
  owner: string | null,
  opts: { now: number; backoffMs: number; reason: string },
): Promise<"retry" | "failed"> {
  const retry = run.attempt < run.max_attempts;
  let q = db
    .updateTable("runs")
    .set(
      retry
        ? {
            state: "pending",
            available_at: opts.now + opts.backoffMs,
            lease_owner: null,
            lease_expires_at: null,
            reason: opts.reason,
          }
        : {
            state: "failed",
            finished_at: opts.now,
            lease_owner: null,
            lease_expires_at: null,
            reason: `${opts.reason} (attempts used up)`,
          },
    )
    .where("id", "=", run.id)
    .where("state", "=", "running");
  if (owner) q = q.where("lease_owner", "=", owner);
  await q.execute();
  return retry ? "retry" : "failed";
}

/**
 * Puts a run held by `owner` back in the queue, available now, without counting the attempt
 * that was cut short: a session stopped by a graceful daemon shutdown, not by a failure. The
 * next `nightshift serve` claims it again. Does nothing when `owner` no longer holds it.
 *
 * @returns whether the run was requeued.
 */
export async function requeueRun(
  db: Kysely<Database>,
  id: string,
  owner: string,
  opts: { now: number; reason: string },
): Promise<boolean> {
  const r = await db
    .updateTable("runs")
    .set((eb) => ({
      state: "pending",
      attempt: eb
        .case()
        .when("attempt", ">", 0)
        .then(eb("attempt", "-", 1))
        .else(0)
        .end(),
      available_at: opts.now,
      lease_owner: null,
      lease_expires_at: null,
      started_at: null,
      reason: opts.reason,
    }))
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .where("state", "=", "running")
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Runs whose lease has expired: their worker died or hung. */
export async function expiredRuns(db: Kysely<Database>, now: number): Promise<RunRow[]> {
  return db
    .selectFrom("runs")
    .selectAll()
    .where("state", "=", "running")
    .where("lease_expires_at", "<", now)
    .execute();
}

/** How many runs of a routine are in progress and waiting. */
export async function routineRunCounts(
  db: Kysely<Database>,
  routine: string,
): Promise<{ running: number; pending: number }> {
  const rows = await db
    .selectFrom("runs")
    .select(["state", db.fn.countAll<number>().as("n")])
    .where("routine", "=", routine)
    .where("state", "in", ["running", "pending"])
    .groupBy("state")
    .execute();
  const get = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
  return { running: get("running"), pending: get("pending") };
}

/** Recent runs, newest first (all states: skipped and missed slots included). */
export async function listRuns(
  db: Kysely<Database>,
  opts: { routine?: string; limit?: number } = {},
): Promise<RunRow[]> {
  let q = db.selectFrom("runs").selectAll().orderBy("created_at", "desc").orderBy("id", "desc");
  if (opts.routine) q = q.where("routine", "=", opts.routine);
  return q.limit(opts.limit ?? 50).execute();
}

/** Cancels the pending runs of a routine (used by the `replace` overlap policy). */
export async function cancelPendingRuns(
  db: Kysely<Database>,
  routine: string,
  now: number,
  reason: string,
): Promise<void> {
  await db
    .updateTable("runs")
    .set({ state: "cancelled", reason, finished_at: now })
    .where("routine", "=", routine)
    .where("state", "=", "pending")
    .execute();
}

/** The run that started session `sessionId` (none for a session run in the foreground). */
export async function runOfSession(db: Kysely<Database>, sessionId: string): Promise<RunRow | undefined> {
  return db.selectFrom("runs").selectAll().where("session_id", "=", sessionId).executeTakeFirst();
}

/** Finds a run by id or by a unique id prefix. */
export async function findRun(db: Kysely<Database>, idOrPrefix: string): Promise<RunRow | undefined> {
  const exact = await db.selectFrom("runs").selectAll().where("id", "=", idOrPrefix).executeTakeFirst();
  if (exact) return exact;
  const prefix = idOrPrefix.replace(/[%_]/g, "");
  if (!prefix) return undefined;
  const matches = await db
    .selectFrom("runs")
    .selectAll()
    .where("id", "like", `${prefix}%`)
    .limit(2)
    .execute();
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * Cancels a run a person asked to stop: a `pending` one never starts; a `running` one loses
 * its lease, so its worker's next heartbeat fails and the worker stops its session (within a
 * quarter of the lease) and leaves the run cancelled — unlike a daemon shutdown, which
 * requeues. Runs already ended are left as they are.
 *
 * @returns the state the run was in when cancelled, or `undefined` when it had already ended.
 */
export async function cancelRun(
  db: Kysely<Database>,
  id: string,
  opts: { now: number; reason: string },
): Promise<"pending" | "running" | undefined> {
  for (const state of ["pending", "running"] as const) {
    const r = await db
      .updateTable("runs")
      .set({
        state: "cancelled",
        reason: opts.reason,
        finished_at: opts.now,
        lease_owner: null,
        lease_expires_at: null,
      })
      .where("id", "=", id)
      .where("state", "=", state)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return state;
  }
  return undefined;
}

/**
 * A run with the state and reason of its session, when it has one, and the state to show:
 * a `done` run whose session failed, timed out or was cancelled shows the session's state.
 */
export type RunWithSession = RunRow & {
  session_state: string | null;
  session_reason: string | null;
  shown_state: string;
};

/**
 * Recent runs, newest first, each with its session's state and reason, for `sessions list
 * --all`: a run is `done` whatever its session's outcome, so the session says whether it
 * failed. `states` filters on the shown state; `since` (ms) on when the run was fired.
 */
export async function listRunsWithSessions(
  db: Kysely<Database>,
  opts: { routine?: string; states?: readonly string[]; since?: number; limit?: number } = {},
): Promise<RunWithSession[]> {
  const shown = sql<string>`CASE WHEN runs.state = 'done' AND sessions.state IN ('failed', 'timed_out', 'cancelled') THEN sessions.state ELSE runs.state END`;
  let q = db
    .selectFrom("runs")
    .leftJoin("sessions", "sessions.id", "runs.session_id")
    .selectAll("runs")
    .select(["sessions.state as session_state", "sessions.reason as session_reason", shown.as("shown_state")])
    .orderBy("runs.created_at", "desc")
    .orderBy("runs.id", "desc");
  if (opts.routine) q = q.where("runs.routine", "=", opts.routine);
  if (opts.since !== undefined) q = q.where("runs.created_at", ">=", opts.since);
  if (opts.states?.length) q = q.where(shown, "in", [...opts.states]);
  return q.limit(opts.limit ?? 50).execute();
}

/**
 * What {@link insertRuns} writes in each column: an index into the row it passes as JSON, or a
 * constant (a new run has made no attempt and has no lease).
 */
const BATCH_COLUMNS: readonly (readonly [column: string, from: number | "0" | "NULL"])[] = [
  ["id", 0],
  ["routine", 1],
  ["trigger", 2],
  ["dedupe_key", 3],
  ["scheduled_for", 4],
  ["state", 5],
  ["reason", 6],
  ["context", 7],
  ["issue_number", 8],
  ["max_running", 9],
  ["attempt", "0"],
  ["max_attempts", 10],
  ["available_at", 11],
  ["lease_owner", "NULL"],
  ["lease_expires_at", "NULL"],
  ["session_id", 12],
  ["created_at", 11],
  ["started_at", "NULL"],
  ["finished_at", 13],
];

/**
 * Records many fires in one statement, each at most once: like {@link insertRun} for every
 * element, a run whose (routine, dedupe key) is already stored is left as it is. Run it inside
 * the caller's transaction to make the batch atomic.
 *
 * @returns the runs this call inserted, keyed by {@link runKey}, with their new ids.
 */
export async function insertRuns(
  db: Kysely<Database>,
  runs: readonly NewRun[],
): Promise<Map<string, string>> {
  const inserted = new Map<string, string>();
  if (runs.length === 0) return inserted;
  const rows = runs.map((r) => [
    randomId(12),
    r.routine,
    r.trigger,
    r.dedupeKey,
    r.scheduledFor ?? null,
    r.state ?? "pending",
    r.reason ?? null,
    r.context ?? null,
    r.issueNumber ?? null,
    r.maxRunning,
    r.maxAttempts ?? 2,
    r.now,
    r.sessionId ?? null,
    r.state && r.state !== "pending" ? r.now : null,
  ]);
  const columns = sql.join(BATCH_COLUMNS.map(([c]) => sql.id(c)));
  const values = sql.join(
    BATCH_COLUMNS.map(([, from]) =>
      typeof from === "number" ? sql`json_extract(j.value, ${sql.lit(`$[${from}]`)})` : sql.raw(from),
    ),
  );
  // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT, not a join.
  const { rows: done } = await sql<{ id: string; routine: string; dedupe_key: string }>`
    INSERT INTO runs (${columns})
    SELECT ${values} FROM json_each(${JSON.stringify(rows)}) j WHERE true
    ON CONFLICT (routine, dedupe_key) DO NOTHING
    RETURNING id, routine, dedupe_key`.execute(db);
  for (const d of done) inserted.set(runKey(d.routine, d.dedupe_key), d.id);
  return inserted;
}

/** The key {@link insertRuns} and {@link existingRunKeys} use for a (routine, dedupe key) pair. */
export function runKey(routine: string, dedupeKey: string): string {
  return `${routine}\u0000${dedupeKey}`;
}

/**
 * Which of the (routine, dedupe key) pairs already have a run, in one query.
 *
 * @returns the ids of the stored runs, keyed by {@link runKey}.
 */
export async function existingRunKeys(
  db: Kysely<Database>,
  pairs: readonly { routine: string; dedupeKey: string }[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (pairs.length === 0) return found;
  const json = JSON.stringify(pairs.map((p) => [p.routine, p.dedupeKey]));
  const { rows } = await sql<{ id: string; routine: string; dedupe_key: string }>`
    SELECT r.id, r.routine, r.dedupe_key FROM json_each(${json}) j
      JOIN runs r ON r.routine = json_extract(j.value, '$[0]') AND r.dedupe_key = json_extract(j.value, '$[1]')`.execute(
    db,
  );
  for (const r of rows) found.set(runKey(r.routine, r.dedupe_key), r.id);
  return found;
}

/**
 * {@link routineRunCounts} of many routines in one query; a routine with no run in progress or
 * waiting has `{ running: 0, pending: 0 }`.
 */
export async function routinesRunCounts(
  db: Kysely<Database>,
  routines: readonly string[],
): Promise<Map<string, { running: number; pending: number }>> {
  const counts = new Map<string, { running: number; pending: number }>();
  for (const r of routines) counts.set(r, { running: 0, pending: 0 });
  if (routines.length === 0) return counts;
  const { rows } = await sql<{ routine: string; state: string; n: number }>`
    SELECT r.routine, r.state, count(*) AS n FROM json_each(${JSON.stringify([...new Set(routines)])}) j
      JOIN runs r ON r.routine = j.value AND r.state IN ('running', 'pending')
     GROUP BY r.routine, r.state`.execute(db);
  for (const row of rows) {
    const c = counts.get(row.routine)!;
    if (row.state === "running") c.running = Number(row.n);
    else c.pending = Number(row.n);
  }
  return counts;
}
