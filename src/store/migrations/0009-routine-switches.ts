import type { Kysely } from "kysely";

/**
 * Routine switches: a routine paused (or resumed) from the store rather than its file, with
 * why, when (ms) and by whom. The routine file stays the source of truth for everything else;
 * a routine with no row is not paused. One row per routine, kept when resumed (`paused = 0`)
 * so the last change stays visible.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("routine_switches")
    .addColumn("routine", "text", (c) => c.primaryKey())
    .addColumn("paused", "integer", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("changed_at", "bigint", (c) => c.notNull())
    .addColumn("changed_by", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("routine_switches").execute();
}
