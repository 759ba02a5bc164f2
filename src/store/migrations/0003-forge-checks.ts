import { type Kysely, sql } from "kysely";

/**
 * The local forge grows what the deque workflow reads from a forge: checks on commits (the
 * local CI's results), labels on pull requests, and review threads (line comments live in
 * `forge_comments` with a `thread_id`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("forge_checks")
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("sha", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("conclusion", "text")
    .addColumn("required", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("output", "text")
    .addColumn("url", "text")
    .addColumn("started_at", "bigint")
    .addColumn("completed_at", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("forge_checks_pk", ["repo", "sha", "name"])
    .execute();

  await db.schema
    .alterTable("forge_pull_requests")
    .addColumn("labels", "text", (c) => c.notNull().defaultTo(sql`'[]'`))
    .execute();

  await db.schema
    .createTable("forge_review_threads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("path", "text")
    .addColumn("line", "integer")
    .addColumn("resolved", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("resolved_at", "bigint")
    .execute();
  await db.schema
    .createIndex("forge_review_threads_item")
    .on("forge_review_threads")
    .columns(["repo", "number"])
    .execute();

  await db.schema.alterTable("forge_comments").addColumn("thread_id", "text").execute();
}
