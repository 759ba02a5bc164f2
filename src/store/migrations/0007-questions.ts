import type { Kysely } from "kysely";

/**
 * Needs input: the questions an agent asked the person (Claude Code's `AskUserQuestion`,
 * nightshift's `ask_user` MCP tool). One row per ask; the session waits in `needs_input`
 * until `answer` is set. `questions` and `answer` are JSON (see store/session-questions.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("session_questions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("tool_use_id", "text")
    .addColumn("questions", "text", (c) => c.notNull())
    .addColumn("asked_at", "bigint", (c) => c.notNull())
    .addColumn("answer", "text")
    .addColumn("answered_at", "bigint")
    .addColumn("answered_by", "text")
    .execute();
  await db.schema
    .createIndex("session_questions_session_idx")
    .on("session_questions")
    .column("session_id")
    .execute();
}
