import { type Kysely, sql } from "kysely";

/** Sessions, transcripts, the delivery ledger and the local forge. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("routine", "text", (c) => c.notNull())
    .addColumn("agent", "text", (c) => c.notNull())
    .addColumn("model", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("infra_outcome", "text")
    .addColumn("task_outcome", "text")
    .addColumn("reason", "text")
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("issue_number", "integer")
    .addColumn("input_text", "text")
    .addColumn("repo", "text")
    .addColumn("branch", "text")
    .addColumn("base_branch", "text")
    .addColumn("base_sha", "text")
    .addColumn("head_sha", "text")
    .addColumn("pr_number", "integer")
    .addColumn("workspace_path", "text")
    .addColumn("workspace_removed_at", "bigint")
    .addColumn("agent_session_id", "text")
    .addColumn("exit_code", "integer")
    .addColumn("runner_host", "text")
    .addColumn("runner_pid", "integer")
    .addColumn("agent_pid", "integer")
    .addColumn("input_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("output_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("cache_read_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("cache_creation_tokens", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("context_tokens", "bigint")
    .addColumn("cost_usd", "double precision")
    .addColumn("num_turns", "integer")
    .addColumn("files_changed", "integer")
    .addColumn("insertions", "integer")
    .addColumn("deletions", "integer")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema
    .createIndex("sessions_routine_created")
    .on("sessions")
    .columns(["routine", "created_at"])
    .execute();
  await db.schema.createIndex("sessions_state").on("sessions").column("state").execute();

  await db.schema
    .createTable("transcript_events")
    .addColumn("session_id", "text", (c) => c.notNull().references("sessions.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("transcript_events_pk", ["session_id", "seq"])
    .execute();

  await db.schema
    .createTable("deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("session_id", "text", (c) => c.notNull().references("sessions.id").onDelete("cascade"))
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("ref", "text")
    .addColumn("sha", "text")
    .addColumn("detail", "text")
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("deliveries_session").on("deliveries").column("session_id").execute();

  await db.schema
    .createTable("forge_counters")
    .addColumn("repo", "text", (c) => c.primaryKey())
    .addColumn("last_number", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("forge_issues")
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("labels", "text", (c) => c.notNull().defaultTo(sql`'[]'`))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("forge_issues_pk", ["repo", "number"])
    .execute();

  await db.schema
    .createTable("forge_pull_requests")
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("head", "text", (c) => c.notNull())
    .addColumn("base", "text", (c) => c.notNull())
    .addColumn("draft", "integer", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("session_id", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("forge_pull_requests_pk", ["repo", "number"])
    .execute();

  await db.schema
    .createTable("forge_comments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("author", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("forge_comments_item")
    .on("forge_comments")
    .columns(["repo", "number"])
    .execute();
}
