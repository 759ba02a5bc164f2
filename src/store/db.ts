import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import { migrationProvider } from "./migrations/index.ts";
import type { Database } from "./schema.ts";

/** How often a failed migration is tried again (another process may have been applying it). */
const MIGRATION_RETRIES = 3;

/** An open store: the Kysely handle plus how to close it. */
export interface Store {
  db: Kysely<Database>;
  /** Absolute path of the SQLite file (the embedded store). */
  file: string;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite store at `file` and applies pending migrations.
 * WAL mode lets `nightshift logs --follow` read while a session writes. The file and its
 * `-wal` and `-shm` files are made readable by their owner only (0600).
 *
 * @throws {Error} when a migration fails (the message names it); the store is left closed.
 */
export async function openStore(file: string): Promise<Store> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // The store holds transcripts and hashed tokens: only its owner may read it, whatever the umask.
  // SQLite gives the -wal and -shm files the database file's mode.
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) chmodSync(extra, 0o600);
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  // Two processes opening a new store at once (a CLI command beside `serve`) can both try the
  // same migration; the loser's transaction rolls back, and a second look finds it applied.
  let outcome = await migrator.migrateToLatest();
  for (let attempt = 1; outcome.error && attempt <= MIGRATION_RETRIES; attempt++) {
    await new Promise((r) => setTimeout(r, 100 * attempt));
    outcome = await migrator.migrateToLatest();
  }
  const { error, results } = outcome;
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`nightshift: store migration ${failed} failed on ${file}`, { cause: error });
  }
  return { db, file, close: () => db.destroy() };
}
