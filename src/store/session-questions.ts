import type { Generated, Kysely, Selectable } from "kysely";
import { randomId } from "../util/ids.ts";
import type { Database } from "./schema.ts";

/** One option of a question: what the person picks (`label`) and what it means. */
export interface QuestionOption {
  label: string;
  description?: string;
}

/**
 * One question an agent asked, in Claude Code's `AskUserQuestion` shape (nightshift's
 * `ask_user` MCP tool takes the same): the text, a short header, the options to pick from
 * (none: a free-text answer) and whether several may be picked.
 */
export interface AskedQuestion {
  question: string;
  header?: string;
  options: QuestionOption[];
  multiSelect: boolean;
}

/** The answer to one ask: question text → the answer (the chosen label(s) joined by ", ", or free text). */
export type QuestionAnswers = Record<string, string>;

/** The `session_questions` table (migration 0007). Times are ms since the epoch. */
export interface SessionQuestionsTable {
  id: Generated<string>;
  session_id: string;
  /** The agent's id for the tool call that asked (Claude Code's `tool_use` id); null for `ask_user`. */
  tool_use_id: string | null;
  /** JSON: {@link AskedQuestion}[]. */
  questions: string;
  asked_at: number;
  /** JSON: {@link QuestionAnswers}; null until answered. */
  answer: string | null;
  answered_at: number | null;
  /** Who answered: `cli`, `api:<token name>`, `dashboard:<user>`. */
  answered_by: string | null;
}

/** A stored question, its JSON columns parsed. */
export interface SessionQuestion {
  id: string;
  sessionId: string;
  toolUseId: string | null;
  questions: AskedQuestion[];
  askedAt: number;
  answer: QuestionAnswers | null;
  answeredAt: number | null;
  answeredBy: string | null;
}

type QDb = Kysely<Database & { session_questions: SessionQuestionsTable }>;
const q = (db: Kysely<Database>) => db as unknown as QDb;

function toQuestion(r: Selectable<SessionQuestionsTable>): SessionQuestion {
  return {
    id: r.id,
    sessionId: r.session_id,
    toolUseId: r.tool_use_id,
    questions: JSON.parse(r.questions) as AskedQuestion[],
    askedAt: Number(r.asked_at),
    answer: r.answer === null ? null : (JSON.parse(r.answer) as QuestionAnswers),
    answeredAt: r.answered_at === null ? null : Number(r.answered_at),
    answeredBy: r.answered_by,
  };
}

/**
 * Stores the questions a session's agent asked.
 * @param a.now - ms since the epoch.
 * @returns the stored question (its `id` is new).
 */
export async function insertSessionQuestion(
  db: Kysely<Database>,
  a: { sessionId: string; toolUseId: string | null; questions: AskedQuestion[]; now: number },
): Promise<SessionQuestion> {
  const id = randomId(12);
  await q(db)
    .insertInto("session_questions")
    .values({
      id,
      session_id: a.sessionId,
      tool_use_id: a.toolUseId,
      questions: JSON.stringify(a.questions),
      asked_at: a.now,
      answer: null,
      answered_at: null,
      answered_by: null,
    })
    .execute();
  return {
    id,
    sessionId: a.sessionId,
    toolUseId: a.toolUseId,
    questions: a.questions,
    askedAt: a.now,
    answer: null,
    answeredAt: null,
    answeredBy: null,
  };
}

/** The question a session is waiting on (the latest one not answered), if any. */
export async function openSessionQuestion(
  db: Kysely<Database>,
  sessionId: string,
): Promise<SessionQuestion | undefined> {
  const r = await q(db)
    .selectFrom("session_questions")
    .selectAll()
    .where("session_id", "=", sessionId)
    .where("answer", "is", null)
    .orderBy("asked_at", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst();
  return r ? toQuestion(r) : undefined;
}

/** Every question of a session, oldest first. */
export async function sessionQuestions(db: Kysely<Database>, sessionId: string): Promise<SessionQuestion[]> {
  const rows = await q(db)
    .selectFrom("session_questions")
    .selectAll()
    .where("session_id", "=", sessionId)
    .orderBy("asked_at", "asc")
    .orderBy("id", "asc")
    .execute();
  return rows.map(toQuestion);
}

/** The open questions of many sessions at once (for list views), by session id. */
export async function openQuestionsOf(
  db: Kysely<Database>,
  sessionIds: readonly string[],
): Promise<Map<string, SessionQuestion>> {
  const out = new Map<string, SessionQuestion>();
  if (sessionIds.length === 0) return out;
  const rows = await q(db)
    .selectFrom("session_questions")
    .selectAll()
    .where("session_id", "in", sessionIds)
    .where("answer", "is", null)
    .orderBy("asked_at", "asc")
    .execute();
  for (const r of rows) out.set(r.session_id, toQuestion(r));
  return out;
}

/**
 * Stores the answer to question `id`, once: an already answered question is left alone.
 * @param a.now - ms since the epoch.
 * @returns true when this call stored the answer, false when it was answered before (or does not exist).
 */
export async function answerSessionQuestion(
  db: Kysely<Database>,
  id: string,
  a: { answer: QuestionAnswers; by: string; now: number },
): Promise<boolean> {
  const r = await q(db)
    .updateTable("session_questions")
    .set({ answer: JSON.stringify(a.answer), answered_at: a.now, answered_by: a.by })
    .where("id", "=", id)
    .where("answer", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
