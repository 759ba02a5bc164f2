import type { Kysely } from "kysely";

/**
 * Work claims: which issue or pull request a deque session is working on right now, one
 * claim per item, so two routines (the oldest-first and the newest-first issue agents, or
 * two workers) never work on the same item at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("work_claims")
    .addColumn("repo", "text", (c) => c.notNull())
    .addColumn("number", "integer", (c) => c.notNull())
    .addColumn("routine", "text", (c) => c.notNull())
    .addColumn("claimed_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("work_claims_pk", ["repo", "number"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("work_claims").execute();
}
