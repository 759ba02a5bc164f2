import type { Kysely } from "kysely";

/**
 * The daemon's durable state: the run queue (one row per fire, unique per routine and
 * dedupe key), API tokens (hashes only), webhook deliveries (for de-duplication) and how far
 * each schedule has been considered.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("routine", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("dedupe_key", "text", (c) => c.notNull())
    .addColumn("scheduled_for", "bigint")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("context", "text")
    .addColumn("issue_number", "integer")
    .addColumn("max_running", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull().defaultTo(2))
    .addColumn("available_at", "bigint", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "bigint")
    .addColumn("session_id", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addUniqueConstraint("runs_routine_dedupe", ["routine", "dedupe_key"])
    .execute();
  await db.schema.createIndex("runs_state_available").on("runs").columns(["state", "available_at"]).execute();
  await db.schema.createIndex("runs_routine_state").on("runs").columns(["routine", "state"]).execute();

  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("routine", "text", (c) => c.notNull())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("delivery_id", "text", (c) => c.notNull())
    .addColumn("event", "text")
    .addColumn("received_at", "bigint", (c) => c.notNull())
    .addColumn("runs", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("webhook_deliveries_pk", ["source", "delivery_id"])
    .execute();

  await db.schema
    .createTable("schedule_cursors")
    .addColumn("routine", "text", (c) => c.notNull())
    .addColumn("trigger_key", "text", (c) => c.notNull())
    .addColumn("considered_until", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("schedule_cursors_pk", ["routine", "trigger_key"])
    .execute();
}
