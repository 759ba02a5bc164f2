import { type Kysely, sql } from "kysely";
import type { SessionState } from "../session/states.ts";
import type { Database, SessionRow } from "./schema.ts";
import { openQuestionsOf } from "./session-questions.ts";

/**
 * Read models of the agent view (the dashboard's pages, `nightshift agents`, `GET /v1/events`):
 * the grouped agents list, the event stream's cursors, usage per day / routine / model. All
 * their SQL lives here. Times are ms since the epoch; costs USD; tokens tokens.
 */

/** The groups of the agents list, in the order they are shown (needs input first). */
export const AGENT_GROUPS = [
  { group: "needs_input", label: "Needs input" },
  { group: "working", label: "Working" },
  { group: "ready_for_review", label: "Ready for review" },
  { group: "completed", label: "Completed" },
  { group: "failed", label: "Failed" },
  { group: "cancelled", label: "Cancelled" },
] as const;
export type AgentGroup = (typeof AGENT_GROUPS)[number]["group"];

/**
 * States that wait for the person (`needs_input`: an agent asked a question). Written as text so
 * this module works before and after the state is added to `SessionState`.
 */
const NEEDS_INPUT_STATES = ["needs_input"] as unknown as SessionState[];
const WORKING_STATES: SessionState[] = ["queued", "preparing", "running", "finishing"];
const FAILED_STATES: SessionState[] = ["failed", "timed_out"];

/** A pull request as the agents list shows it. `checks`: summary of its head commit's checks. */
export interface AgentPr {
  repo: string;
  number: number;
  /** `unknown` when the forge is not the local one (the store holds no copy of the PR). */
  state: "draft" | "ready" | "merged" | "closed" | "unknown";
  title: string | null;
  checks: "passing" | "failing" | "pending" | "none";
}

/** One row of the agents list. */
export interface AgentRow {
  id: string;
  /** A dispatched session's title (the `title` column, once the store has it), else `null`. */
  title: string | null;
  routine: string;
  agent: string;
  model: string | null;
  state: string;
  group: AgentGroup;
  trigger: string;
  infraOutcome: string | null;
  taskOutcome: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Run time in ms: finished − started, or now − started while it runs; `null` before it starts. */
  durationMs: number | null;
  /** Input + output + cache read + cache creation tokens. */
  tokens: number;
  costUsd: number | null;
  /** Largest context of one turn, tokens. */
  contextTokens: number | null;
  /** `contextTokens` as a % of the model's window (0–100+, one decimal); `null` when unknown. */
  contextPercent: number | null;
  pr: AgentPr | null;
  /** One line: the failure reason, else the agent's final text, else the state's detail. */
  summary: string | null;
  /**
   * A `needs_input` session's open question in one line (several questions joined by " · "),
   * else `null`.
   */
  question: string | null;
}

/** The grouped agents list. `count` is every session of the group; `rows` the newest of them. */
export interface AgentsView {
  groups: { group: AgentGroup; label: string; count: number; rows: AgentRow[] }[];
  total: number;
  /** When the view was read (ms). */
  at: number;
}

/**
 * Context windows in tokens by model name (the first pattern that matches wins). Claude models
 * have 200k (1M with the `[1m]` suffix), the GPT-5 family as Codex runs it 272k input tokens.
 */
const CONTEXT_WINDOWS: readonly [RegExp, number][] = [
  [/\[1m\]/i, 1_000_000],
  [/claude|sonnet|opus|haiku/i, 200_000],
  [/gpt-5|codex/i, 272_000],
  [/gpt-4\.1/i, 1_000_000],
  [/gpt-4o|o3|o4/i, 128_000],
];

/** The context window of `model` in tokens, or `undefined` for a model this table does not know. */
export function contextWindowTokens(model: string | null | undefined): number | undefined {
  if (!model) return undefined;
  return CONTEXT_WINDOWS.find(([re]) => re.test(model))?.[1];
}

/** Which group a session belongs to, given its PR's state (`undefined`: no PR or unknown). */
export function agentGroup(state: string, prNumber: number | null, prState: string | undefined): AgentGroup {
  if ((NEEDS_INPUT_STATES as string[]).includes(state)) return "needs_input";
  if ((WORKING_STATES as string[]).includes(state)) return "working";
  if (state === "cancelled") return "cancelled";
  if ((FAILED_STATES as string[]).includes(state)) return "failed";
  if (prNumber !== null && (prState === undefined || prState === "open")) return "ready_for_review";
  return "completed";
}

/** A session's title when the store has a `title` column (added for dispatched sessions). */
function titleOf(row: SessionRow): string | null {
  const t = (row as SessionRow & { title?: unknown }).title;
  return typeof t === "string" && t.trim() !== "" ? t : null;
}

/** The first non-empty line of `text`, at most `max` characters. */
export function oneLine(text: string | null | undefined, max = 160): string | null {
  if (!text) return null;
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (!line) return null;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Reads the grouped agents list: every group's count and its `perGroup` newest sessions
 * (default 25), with their PRs (local forge), checks and one-line summaries. Costs a handful
 * of indexed queries whatever the number of sessions (see migration 0008's indexes).
 * @param opts.now the time durations of running sessions are measured to (ms)
 */
export async function agentsView(
  db: Kysely<Database>,
  opts: { now: number; perGroup?: number },
): Promise<AgentsView> {
  const perGroup = opts.perGroup ?? 25;
  const counts = await db
    .selectFrom("sessions")
    .select(["state", db.fn.countAll<number>().as("n")])
    .groupBy("state")
    .execute();
  const byState = new Map(counts.map((r) => [r.state as string, Number(r.n)]));
  const sum = (states: readonly string[]) => states.reduce((s, x) => s + (byState.get(x) ?? 0), 0);
  // Succeeded sessions with a PR that is open (or not in the store: a GitHub PR) await review.
  const openPr = (q: ReturnType<typeof succeededWithPr>) =>
    q.where((eb) => eb.or([eb("p.state", "is", null), eb("p.state", "=", "open")]));
  const succeededWithPr = () =>
    db
      .selectFrom("sessions as s")
      .leftJoin("forge_pull_requests as p", (j) =>
        j.onRef("p.repo", "=", "s.repo").onRef("p.number", "=", "s.pr_number"),
      )
      .where("s.state", "=", "succeeded")
      .where("s.pr_number", "is not", null);
  const readyCount = Number(
    (await openPr(succeededWithPr()).select(db.fn.countAll<number>().as("n")).executeTakeFirst())?.n ?? 0,
  );

  // One query per state (each walks the (state, created_at, id) index backwards and stops
  // after `perGroup` rows), merged: an IN list would sort every row of the states.
  const newest = async (states: readonly SessionState[]) => {
    const lists = await Promise.all(
      states.map((state) =>
        db
          .selectFrom("sessions")
          .selectAll()
          .where("state", "=", state)
          .orderBy("created_at", "desc")
          .orderBy("id", "desc")
          .limit(perGroup)
          .execute(),
      ),
    );
    return lists
      .flat()
      .sort((a, b) => Number(b.created_at) - Number(a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, perGroup);
  };
  const [needs, working, ready, completed, failed, cancelled] = await Promise.all([
    newest(NEEDS_INPUT_STATES),
    newest(WORKING_STATES),
    openPr(succeededWithPr())
      .selectAll("s")
      .orderBy("s.created_at", "desc")
      .orderBy("s.id", "desc")
      .limit(perGroup)
      .execute(),
    db
      .selectFrom("sessions as s")
      .leftJoin("forge_pull_requests as p", (j) =>
        j.onRef("p.repo", "=", "s.repo").onRef("p.number", "=", "s.pr_number"),
      )
      .selectAll("s")
      .where("s.state", "=", "succeeded")
      .where((eb) => eb.or([eb("s.pr_number", "is", null), eb("p.state", "in", ["closed", "merged"])]))
      .orderBy("s.created_at", "desc")
      .orderBy("s.id", "desc")
      .limit(perGroup)
      .execute(),
    newest(FAILED_STATES),
    newest(["cancelled"]),
  ]);
  const lists: Record<AgentGroup, SessionRow[]> = {
    needs_input: needs,
    working,
    ready_for_review: ready,
    completed,
    failed,
    cancelled,
  };
  const all = Object.values(lists).flat();
  const rows = await agentRows(db, all, opts.now);
  const rowById = new Map(rows.map((r) => [r.id, r]));
  const groupCounts: Record<AgentGroup, number> = {
    needs_input: sum(NEEDS_INPUT_STATES),
    working: sum(WORKING_STATES),
    ready_for_review: readyCount,
    completed: (byState.get("succeeded") ?? 0) - readyCount,
    failed: sum(FAILED_STATES),
    cancelled: byState.get("cancelled") ?? 0,
  };
  return {
    groups: AGENT_GROUPS.map(({ group, label }) => ({
      group,
      label,
      count: groupCounts[group],
      rows: lists[group].map((s) => ({ ...rowById.get(s.id)!, group })),
    })),
    total: counts.reduce((s, r) => s + Number(r.n), 0),
    at: opts.now,
  };
}

/** Questions in one line: each question's text (header first when it has one), joined by " · ". */
function questionLine(qs: readonly { question: string; header?: string }[] | undefined): string | null {
  if (!qs?.length) return null;
  return oneLine(
    qs.map((q) => `${q.header ? `${q.header}: ` : ""}${q.question}`.replace(/\s+/g, " ")).join(" · "),
    200,
  );
}

/**
 * Turns session rows into agents-list rows: looks up their PRs (local forge), the checks of
 * their head commits, the open questions of `needs_input` sessions and, for finished sessions, the
 * agent's final text (4 queries at most).
 */
export async function agentRows(
  db: Kysely<Database>,
  sessions: SessionRow[],
  now: number,
): Promise<AgentRow[]> {
  if (sessions.length === 0) return [];
  const withPr = sessions.filter((s) => s.pr_number !== null && s.repo !== null);
  const prs = withPr.length
    ? await db
        .selectFrom("forge_pull_requests")
        .select(["repo", "number", "state", "draft", "title"])
        .where((eb) =>
          eb.or(withPr.map((s) => eb.and([eb("repo", "=", s.repo!), eb("number", "=", s.pr_number!)]))),
        )
        .execute()
    : [];
  const prKey = (repo: string, n: number) => `${repo}#${n}`;
  const prMap = new Map(prs.map((p) => [prKey(p.repo, p.number), p]));
  const shas = withPr.filter((s) => s.head_sha).map((s) => s.head_sha!);
  const checks = shas.length
    ? await db
        .selectFrom("forge_checks")
        .select(["repo", "sha", "status", "conclusion"])
        .where("sha", "in", shas)
        .execute()
    : [];
  const finished = sessions.filter((s) => s.finished_at !== null && !s.reason).map((s) => s.id);
  const results = finished.length
    ? await db
        .selectFrom("transcript_events")
        .select(["session_id", "data"])
        .where("session_id", "in", finished)
        .where("kind", "=", "result")
        .orderBy("seq")
        .execute()
    : [];
  const asking = sessions.filter((s) => (NEEDS_INPUT_STATES as string[]).includes(s.state)).map((s) => s.id);
  const questions = await openQuestionsOf(db, asking);
  const resultText = new Map<string, string>();
  for (const r of results) {
    try {
      const text = (JSON.parse(r.data) as { text?: unknown }).text;
      if (typeof text === "string" && text.trim()) resultText.set(r.session_id, text);
    } catch {
      // a malformed stored event: no summary from it
    }
  }
  return sessions.map((s) => {
    const p = s.pr_number !== null && s.repo !== null ? prMap.get(prKey(s.repo, s.pr_number)) : undefined;
    const mine = checks.filter((c) => c.sha === s.head_sha && c.repo === s.repo);
    const window = contextWindowTokens(s.model);
    const started = s.started_at === null ? null : Number(s.started_at);
    const end = s.finished_at === null ? now : Number(s.finished_at);
    const pr: AgentPr | null =
      s.pr_number === null || s.repo === null
        ? null
        : {
            repo: s.repo,
            number: s.pr_number,
            state: !p
              ? "unknown"
              : p.state === "open"
                ? p.draft
                  ? "draft"
                  : "ready"
                : (p.state as "merged" | "closed"),
            title: p?.title ?? null,
            checks: !mine.length
              ? "none"
              : mine.some((c) => c.status !== "completed")
                ? "pending"
                : mine.every((c) => ["success", "neutral", "skipped"].includes(c.conclusion ?? ""))
                  ? "passing"
                  : "failing",
          };
    const tokens =
      Number(s.input_tokens) +
      Number(s.output_tokens) +
      Number(s.cache_read_tokens) +
      Number(s.cache_creation_tokens);
    return {
      id: s.id,
      title: titleOf(s),
      routine: s.routine,
      agent: s.agent,
      model: s.model,
      state: s.state,
      group: agentGroup(s.state, s.pr_number, p?.state),
      trigger: s.trigger,
      infraOutcome: s.infra_outcome,
      taskOutcome: s.task_outcome,
      createdAt: Number(s.created_at),
      startedAt: started,
      finishedAt: s.finished_at === null ? null : Number(s.finished_at),
      durationMs: started === null ? null : Math.max(0, end - started),
      tokens,
      costUsd: s.cost_usd === null ? null : Number(s.cost_usd),
      contextTokens: s.context_tokens === null ? null : Number(s.context_tokens),
      contextPercent:
        s.context_tokens !== null && window
          ? Math.round((Number(s.context_tokens) / window) * 1000) / 10
          : null,
      pr,
      summary: oneLine(s.reason) ?? oneLine(resultText.get(s.id)) ?? oneLine(s.input_text),
      question: questionLine(questions.get(s.id)?.questions),
    };
  });
}

/** One session's row of the agents list, or `undefined` for an unknown id. */
export async function agentRow(db: Kysely<Database>, id: string, now: number): Promise<AgentRow | undefined> {
  const s = await db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
  return s ? (await agentRows(db, [s], now))[0] : undefined;
}

// ---------------------------------------------------------------------------------------------
// The event stream's cursors: `session_changes.id` (migration 0008's triggers) and the rowid of
// `transcript_events` (SQLite serialises writers, so rowids become visible in order).

/** A position in the event stream: the last session change and transcript row seen. */
export interface EventCursor {
  change: number;
  transcript: number;
}

/** A session inserted or changing state. `id` orders changes. */
export interface SessionChange {
  id: number;
  sessionId: string;
  state: string;
  at: number;
}

/** A transcript event with its store-wide position (`rowid`). */
export interface TranscriptChange {
  rowid: number;
  sessionId: string;
  seq: number;
  at: number;
  kind: string;
  /** The stored JSON text of the event (already redacted by the recorder). */
  data: string;
}

interface ChangesTable {
  session_changes: { id: number; session_id: string; state: string; at: number };
}

function changesDb(db: Kysely<Database>): Kysely<ChangesTable> {
  return db as unknown as Kysely<ChangesTable>;
}

/** The end of the stream now: a cursor from which only later events are read. */
export async function latestEventCursor(db: Kysely<Database>): Promise<EventCursor> {
  const c = await changesDb(db)
    .selectFrom("session_changes")
    .select(sql<number | null>`max(id)`.as("m"))
    .executeTakeFirst();
  const t = await db
    .selectFrom("transcript_events")
    .select(sql<number | null>`max(rowid)`.as("m"))
    .executeTakeFirst();
  return { change: Number(c?.m ?? 0), transcript: Number(t?.m ?? 0) };
}

/** Session changes after `afterId`, oldest first, at most `limit` (default 500). */
export async function sessionChangesAfter(
  db: Kysely<Database>,
  afterId: number,
  limit = 500,
): Promise<SessionChange[]> {
  const rows = await changesDb(db)
    .selectFrom("session_changes")
    .select(["id", "session_id", "state", "at"])
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), sessionId: r.session_id, state: r.state, at: Number(r.at) }));
}

/**
 * Transcript events stored after `afterRowid`, oldest first, at most `limit` (default 500);
 * only `sessionId`'s when given.
 */
export async function transcriptEventsAfter(
  db: Kysely<Database>,
  afterRowid: number,
  opts: { limit?: number; sessionId?: string } = {},
): Promise<TranscriptChange[]> {
  let q = db
    .selectFrom("transcript_events")
    .select([sql<number>`rowid`.as("rowid"), "session_id", "seq", "at", "kind", "data"])
    .where(sql<boolean>`rowid > ${afterRowid}`);
  if (opts.sessionId) q = q.where("session_id", "=", opts.sessionId);
  const rows = await q
    .orderBy(sql`rowid`)
    .limit(opts.limit ?? 500)
    .execute();
  return rows.map((r) => ({
    rowid: Number(r.rowid),
    sessionId: r.session_id,
    seq: r.seq,
    at: Number(r.at),
    kind: r.kind,
    data: r.data,
  }));
}

// ---------------------------------------------------------------------------------------------
// Usage

/** Usage of a set of sessions: how many, tokens and cost (USD). */
export interface UsageRow {
  /** The day (`2026-11-29`, UTC), the routine or the model (`(unknown)` when not recorded). */
  key: string;
  sessions: number;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  costUsd: number;
  /**
   * Per routine or model only: its cost (USD) per UTC day (`2026-11-29` → cost), days without
   * sessions left out. Absent on rows per day.
   */
  costPerDay?: Record<string, number>;
}

/** A day number (days since the epoch, UTC) as `2026-11-29`. */
const dayKey = (n: unknown): string => new Date(Number(n) * 86_400_000).toISOString().slice(0, 10);

/**
 * Usage of the sessions created since `since` (ms), per UTC day, routine or model, ordered by
 * the key (days ascending; routines and models by cost, highest first). Rows per routine or
 * model carry their cost per day ({@link UsageRow.costPerDay}).
 */
export async function usageBy(
  db: Kysely<Database>,
  by: "day" | "routine" | "model",
  since: number,
): Promise<UsageRow[]> {
  const key =
    by === "day"
      ? sql<string>`cast(created_at / 86400000 as integer)`
      : by === "routine"
        ? sql<string>`routine`
        : sql<string>`coalesce(model, '(unknown)')`;
  const rows = await db
    .selectFrom("sessions")
    .select([
      key.as("k"),
      db.fn.countAll<number>().as("n"),
      sql<number>`sum(input_tokens)`.as("input"),
      sql<number>`sum(output_tokens)`.as("output"),
      sql<number>`sum(cache_read_tokens + cache_creation_tokens)`.as("cache"),
      sql<number>`coalesce(sum(cost_usd), 0)`.as("cost"),
    ])
    .where("created_at", ">=", since)
    .groupBy(sql`1`)
    .orderBy(by === "day" ? sql`1` : sql`6 desc`)
    .execute();
  const perDay = new Map<string, Record<string, number>>();
  if (by !== "day") {
    const split = await db
      .selectFrom("sessions")
      .select([
        key.as("k"),
        sql<number>`cast(created_at / 86400000 as integer)`.as("d"),
        sql<number>`coalesce(sum(cost_usd), 0)`.as("cost"),
      ])
      .where("created_at", ">=", since)
      .groupBy([sql`1`, sql`2`])
      .execute();
    for (const r of split) {
      const days = perDay.get(String(r.k)) ?? {};
      days[dayKey(r.d)] = Number(r.cost ?? 0);
      perDay.set(String(r.k), days);
    }
  }
  return rows.map((r) => ({
    key: by === "day" ? dayKey(r.k) : String(r.k),
    sessions: Number(r.n),
    inputTokens: Number(r.input ?? 0),
    outputTokens: Number(r.output ?? 0),
    cacheTokens: Number(r.cache ?? 0),
    costUsd: Number(r.cost ?? 0),
    ...(by === "day" ? {} : { costPerDay: perDay.get(String(r.k)) ?? {} }),
  }));
}

/** The last `limit` sessions of each routine named, newest first (for the Routines page). */
export async function lastOutcomes(
  db: Kysely<Database>,
  routines: readonly string[],
  limit = 5,
): Promise<Map<string, SessionRow[]>> {
  const out = new Map<string, SessionRow[]>();
  await Promise.all(
    routines.map(async (r) => {
      out.set(
        r,
        await db
          .selectFrom("sessions")
          .selectAll()
          .where("routine", "=", r)
          .orderBy("created_at", "desc")
          .limit(limit)
          .execute(),
      );
    }),
  );
  return out;
}

/** Sessions linked to `id`: its parent and follow-ups, once the store records `parent_session_id`. */
export async function linkedSessions(
  db: Kysely<Database>,
  session: SessionRow,
): Promise<{ parent: string | null; followUps: string[] }> {
  const parent = (session as SessionRow & { parent_session_id?: unknown }).parent_session_id;
  if (!("parent_session_id" in session)) return { parent: null, followUps: [] };
  const rows = await db
    .selectFrom("sessions")
    .select("id")
    .where(sql.ref("parent_session_id"), "=", session.id)
    .orderBy("created_at")
    .execute();
  return { parent: typeof parent === "string" ? parent : null, followUps: rows.map((r) => r.id) };
}
