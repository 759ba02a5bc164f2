import { type Kysely, sql } from "kysely";

/**
 * The agent view (docs/dashboard.md):
 * - `session_changes`: one row per session insert and state change, written by SQLite triggers
 *   so every writer (the daemon's workers, a `nightshift run` in another process) feeds the
 *   event stream (`GET /v1/events`) without knowing about it. `id` only grows (AUTOINCREMENT:
 *   never reused, even after retention deletes rows), so it is a resumable cursor.
 * - `dashboard_users` (scrypt-hashed passwords) and `dashboard_logins` (hashed session cookies)
 *   for a dashboard served on a non-loopback address.
 * - indexes for the grouped agents list over 100,000 sessions.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE session_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    state TEXT NOT NULL,
    at BIGINT NOT NULL
  )`.execute(db);
  await db.schema.createIndex("session_changes_session").on("session_changes").column("session_id").execute();
  // Times are SQLite's clock (ms): informative only; the order is `id`.
  const nowMs = sql.raw(`CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`);
  await sql`CREATE TRIGGER session_changes_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_changes (session_id, state, at) VALUES (NEW.id, NEW.state, ${nowMs});
  END`.execute(db);
  await sql`CREATE TRIGGER session_changes_update AFTER UPDATE OF state ON sessions
    WHEN OLD.state IS NOT NEW.state BEGIN
    INSERT INTO session_changes (session_id, state, at) VALUES (NEW.id, NEW.state, ${nowMs});
  END`.execute(db);

  // The newest sessions of one state, in list order, without a sort.
  await db.schema
    .createIndex("sessions_state_created")
    .on("sessions")
    .columns(["state", "created_at", "id"])
    .execute();
  // Sessions with a PR (a small share): "ready for review" is counted and listed from these.
  await sql`CREATE INDEX sessions_with_pr ON sessions (state, repo, pr_number, created_at) WHERE pr_number IS NOT NULL`.execute(
    db,
  );
  await db.schema.createIndex("sessions_created").on("sessions").column("created_at").execute();
  await db.schema
    .createIndex("forge_pull_requests_session")
    .on("forge_pull_requests")
    .column("session_id")
    .execute();

  await db.schema
    .createTable("dashboard_users")
    .addColumn("name", "text", (c) => c.primaryKey())
    /** `scrypt$N$r$p$<salt hex>$<hash hex>` */
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_login_at", "bigint")
    .execute();
  await db.schema
    .createTable("dashboard_logins")
    /** Hex SHA-256 of the cookie value; the value itself is never stored. */
    .addColumn("hash", "text", (c) => c.primaryKey())
    .addColumn("user_name", "text", (c) => c.notNull().references("dashboard_users.name").onDelete("cascade"))
    .addColumn("csrf", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
}
