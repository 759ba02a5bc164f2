import type { Kysely } from "kysely";

/**
 * Follow-ups and dispatch: a session may continue another (`parent_session_id`: same
 * workspace, same branch, same PR), carries a title (a dispatch's first prompt line), and
 * `agent_session_id` (already there since 0001) names the agent conversation to resume.
 * `session_messages` holds replies to a session that was still running, until they become
 * a follow-up (`delivered_session_id`). `runs.request` carries a queued follow-up or dispatch
 * (JSON, see store/runs.ts `RunRequestData`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds one column per ALTER TABLE.
  await db.schema.alterTable("sessions").addColumn("parent_session_id", "text").execute();
  await db.schema.alterTable("sessions").addColumn("title", "text").execute();
  await db.schema.alterTable("runs").addColumn("request", "text").execute();
  await db.schema.createIndex("sessions_parent_idx").on("sessions").column("parent_session_id").execute();
  await db.schema
    .createTable("session_messages")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("delivered_session_id", "text")
    .execute();
  await db.schema
    .createIndex("session_messages_session_idx")
    .on("session_messages")
    .columns(["session_id", "delivered_session_id"])
    .execute();
}
