import { type Kysely, sql, type Updateable } from "kysely";
import type { Database, SessionRow, SessionsTable } from "./schema.ts";
import type { SessionState } from "../session/states.ts";

/** Fields needed to record a new session (it starts `queued`). */
export interface NewSession {
  id: string;
  routine: string;
  agent: string;
  model: string | null;
  trigger: string;
  issueNumber: number | null;
  inputText: string | null;
  createdAt: number;
  /** The process that runs it, so a crash can be detected (see runner/recovery.ts). */
  runner?: { host: string; pid: number };
  /** The session this one continues (a follow-up). */
  parentSessionId?: string | null;
  /** A short title for lists (a dispatch's first prompt line). */
  title?: string | null;
}

/** Inserts a queued session. */
export async function insertSession(db: Kysely<Database>, s: NewSession): Promise<void> {
  await db
    .insertInto("sessions")
    .values({
      id: s.id,
      routine: s.routine,
      agent: s.agent,
      model: s.model,
      model_source: s.model ? "routine" : null,
      state: "queued",
      infra_outcome: null,
      task_outcome: null,
      reason: null,
      trigger: s.trigger,
      issue_number: s.issueNumber,
      input_text: s.inputText,
      repo: null,
      branch: null,
      base_branch: null,
      base_sha: null,
      head_sha: null,
      pr_number: null,
      workspace_path: null,
      workspace_removed_at: null,
      agent_session_id: null,
      parent_session_id: s.parentSessionId ?? null,
      title: s.title ?? null,
      exit_code: null,
      runner_host: s.runner?.host ?? null,
      runner_pid: s.runner?.pid ?? null,
      agent_pid: null,
      context_tokens: null,
      cost_usd: null,
      num_turns: null,
      files_changed: null,
      insertions: null,
      deletions: null,
      created_at: s.createdAt,
      started_at: null,
      finished_at: null,
    })
    .execute();
}

/** Updates columns of one session. */
export async function updateSession(
  db: Kysely<Database>,
  id: string,
  patch: Updateable<SessionsTable>,
): Promise<void> {
  await db.updateTable("sessions").set(patch).where("id", "=", id).execute();
}

/** Moves a session to `state`, with any other columns to set in the same write. */
export async function setSessionState(
  db: Kysely<Database>,
  id: string,
  state: SessionState,
  patch: Updateable<SessionsTable> = {},
): Promise<void> {
  await updateSession(db, id, { ...patch, state });
}

/** Finds a session by its full id or a unique prefix of it. */
export async function findSession(db: Kysely<Database>, idOrPrefix: string): Promise<SessionRow | undefined> {
  const exact = await db.selectFrom("sessions").selectAll().where("id", "=", idOrPrefix).executeTakeFirst();
  if (exact) return exact;
  const matches = await db
    .selectFrom("sessions")
    .selectAll()
    .where("id", "like", `${idOrPrefix.replace(/[%_]/g, "")}%`)
    .limit(2)
    .execute();
  return matches.length === 1 ? matches[0] : undefined;
}

/** Which sessions {@link listSessions} and {@link sessionTotals} take. */
export interface SessionFilter {
  routine?: string;
  /** Only sessions in one of these states. */
  states?: readonly SessionState[];
  /** Only sessions created at or after this time (ms). */
  since?: number;
}

function filtered(db: Kysely<Database>, f: SessionFilter) {
  let q = db.selectFrom("sessions");
  if (f.routine) q = q.where("routine", "=", f.routine);
  if (f.states?.length) q = q.where("state", "in", [...f.states]);
  if (f.since !== undefined) q = q.where("created_at", ">=", f.since);
  return q;
}

/** Lists sessions, newest first. */
export async function listSessions(
  db: Kysely<Database>,
  opts: SessionFilter & { limit?: number } = {},
): Promise<SessionRow[]> {
  return filtered(db, opts)
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(opts.limit ?? 50)
    .execute();
}

/** Totals over every session a filter takes (not only the ones a list shows). */
export interface SessionTotals {
  sessions: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
  /** USD, summed over the sessions whose agent reports a cost. */
  cost_usd: number;
}

/** Counts the sessions a filter takes and sums their tokens and cost. */
export async function sessionTotals(db: Kysely<Database>, f: SessionFilter = {}): Promise<SessionTotals> {
  const row = await filtered(db, f)
    .select((eb) => [
      eb.fn.countAll<number>().as("sessions"),
      eb.fn.coalesce(eb.fn.sum<number>("input_tokens"), sql<number>`0`).as("input_tokens"),
      eb.fn.coalesce(eb.fn.sum<number>("output_tokens"), sql<number>`0`).as("output_tokens"),
      eb.fn.coalesce(eb.fn.sum<number>("cache_read_tokens"), sql<number>`0`).as("cache_read_tokens"),
      eb.fn.coalesce(eb.fn.sum<number>("cache_creation_tokens"), sql<number>`0`).as("cache_creation_tokens"),
      eb.fn.coalesce(eb.fn.sum<number>("cost_usd"), sql<number>`0`).as("cost_usd"),
    ])
    .executeTakeFirstOrThrow();
  return {
    sessions: Number(row.sessions),
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cache_read_tokens: Number(row.cache_read_tokens),
    cache_creation_tokens: Number(row.cache_creation_tokens),
    cost_usd: Number(row.cost_usd),
  };
}

/** Finished sessions whose workspace still exists and that finished before `before` (ms). */
export async function sessionsWithExpiredWorkspaces(
  db: Kysely<Database>,
  before: number,
): Promise<SessionRow[]> {
  return db
    .selectFrom("sessions")
    .selectAll()
    .where("workspace_path", "is not", null)
    .where("workspace_removed_at", "is", null)
    .where("finished_at", "is not", null)
    .where("finished_at", "<=", before)
    .execute();
}

/** A finished session's result for one item (an issue or a PR a deque routine worked on). */
export interface ItemAttempt {
  repo: string;
  number: number;
  /** When the session finished (ms). */
  at: number;
  outcome: "succeeded" | "failed" | "no_changes";
  sessionId: string;
}

/**
 * The finished sessions that worked on an item (`issue_number` set), oldest first, for the
 * deque's rotation rule (an item whose last attempt failed cools down). `routines` limits
 * them to the sessions of those routines.
 */
export async function itemAttempts(
  db: Kysely<Database>,
  opts: { routines?: string[]; since?: number } = {},
): Promise<ItemAttempt[]> {
  let q = db
    .selectFrom("sessions")
    .select(["id", "repo", "issue_number", "finished_at", "state", "task_outcome"])
    .where("issue_number", "is not", null)
    .where("finished_at", "is not", null);
  if (opts.routines?.length) q = q.where("routine", "in", opts.routines);
  if (opts.since !== undefined) q = q.where("finished_at", ">=", opts.since);
  const rows = await q.orderBy("finished_at", "asc").execute();
  return rows.map((r) => ({
    repo: r.repo ?? "",
    number: r.issue_number!,
    at: Number(r.finished_at),
    outcome:
      r.state !== "succeeded" ? "failed" : r.task_outcome === "no_changes" ? "no_changes" : "succeeded",
    sessionId: r.id,
  }));
}

/** The follow-ups of a session (sessions whose `parent_session_id` is `id`), oldest first. */
export async function followUpsOf(db: Kysely<Database>, id: string): Promise<SessionRow[]> {
  return db
    .selectFrom("sessions")
    .selectAll()
    .where("parent_session_id", "=", id)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/**
 * Sessions that use the workspace folder `path` and still hold it: not finished, or finished
 * after `after` (ms). A follow-up shares its parent's workspace, so retention keeps the folder
 * while any of them does.
 */
export async function sessionsHoldingWorkspace(
  db: Kysely<Database>,
  path: string,
  after: number,
): Promise<Pick<SessionRow, "id">[]> {
  return db
    .selectFrom("sessions")
    .select("id")
    .where("workspace_path", "=", path)
    .where((eb) =>
      eb.or([
        eb("finished_at", "is", null),
        eb("finished_at", ">", after),
        // Waiting for an answer: it holds its workspace until it is answered.
        eb("state", "=", "needs_input"),
      ]),
    )
    .execute();
}

/** Marks every session using the workspace folder `path` as having had it removed at `now`. */
export async function markWorkspaceRemoved(db: Kysely<Database>, path: string, now: number): Promise<void> {
  await db
    .updateTable("sessions")
    .set({ workspace_removed_at: now })
    .where("workspace_path", "=", path)
    .where("workspace_removed_at", "is", null)
    .execute();
}
