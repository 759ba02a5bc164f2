import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import { migrationProvider } from "./migrations/index.ts";
import type { Database } from "./schema.ts";

/** An open store: the Kysely handle plus how to close it. */
export interface Store {
  db: Kysely<Database>;
  /** Absolute path of the SQLite file (the embedded store). */
  file: string;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite store at `file` and applies pending migrations.
 * WAL mode lets `nightshift logs --follow` read while a session writes.
 *
 * @throws {Error} when a migration fails (the message names it); the store is left closed.
 */
export async function openStore(file: string): Promise<Store> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`nightshift: store migration ${failed} failed on ${file}: ${String(error)}`);
  }
  return { db, file, close: () => db.destroy() };
}
