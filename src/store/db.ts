import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from "kysely";
import { Migrator } from "kysely/migration";
import { type Clock, systemClock } from "../util/clock.ts";
import { migrationProvider, migrations } from "./migrations/index.ts";
import type { Database } from "./schema.ts";

/** How often a failed migration is tried again (another process may have been applying it). */
const MIGRATION_RETRIES = 3;

/** Prepared statements kept per connection (distinct SQL texts, least recently used dropped). */
const STATEMENT_CACHE_SIZE = 256;

/** Default period of the background WAL checkpoint, ms. */
const CHECKPOINT_INTERVAL_MS = 1_000;

/** Default WAL size, MiB, past which a commit checkpoints even if the timer has not run. */
const WAL_CAP_MIB = 16;

/** Default WAL file size, MiB, from which checkpoints run on a worker thread. */
const OFF_THREAD_AFTER_MIB = 1;

/** An open store: the Kysely handle plus how to close it. */
export interface Store {
  db: Kysely<Database>;
  /** Absolute path of the SQLite file (the embedded store). */
  file: string;
  /** Checkpoints the WAL (passively: never waits for readers) and closes the connection. */
  close(): Promise<void>;
}

/** Tuning for {@link openStore}; every field has a default suited to the daemon and the CLI. */
export interface StoreOptions {
  /** Clock of the background checkpoint timer (default: the system clock, timers unref'd). */
  clock?: Clock;
  /** Period of the background `wal_checkpoint(PASSIVE)`, ms (default 1000). */
  checkpointIntervalMs?: number;
  /**
   * WAL size in MiB past which SQLite checkpoints inside the commit that crossed it, so the WAL
   * stays bounded when the timer cannot run (default 16). Also the size the WAL file is
   * truncated back to when it restarts.
   */
  walCapMiB?: number;
  /**
   * WAL file size in MiB from which the timer's checkpoints run on a worker thread with a
   * connection of its own, so they never block the event loop (default 1; 0 moves them there
   * from the first tick). Below it, a short-lived process (a CLI command) starts no thread and
   * leaves its few pages to the checkpoint of `close()`.
   */
  offThreadAfterMiB?: number;
  /** Prepared statements cached per connection (default 256; 0 disables the cache). */
  statementCacheSize?: number;
}

/**
 * Opens (creating if needed) the SQLite store at `file` and applies pending migrations.
 * WAL mode lets `nightshift logs --follow` read while a session writes. The file and its
 * `-wal` and `-shm` files are made readable by their owner only (0600).
 *
 * Checkpointing is kept off the request path: SQLite's automatic checkpoint (inside a commit)
 * only fires once the WAL passes `walCapMiB`. Below that, an unref'd timer asks for a passive
 * checkpoint every `checkpointIntervalMs`, run on a worker thread once the WAL file has reached
 * `offThreadAfterMiB`; closing the store checkpoints (the last connection to close also removes
 * the WAL), so a short CLI command leaves no WAL behind and starts no thread. Prepared
 * statements are cached per connection (see {@link cachingDatabase}).
 *
 * @throws {Error} when an option is out of range, or a migration fails (the message names it);
 *   the store is left closed.
 */
export async function openStore(file: string, opts: StoreOptions = {}): Promise<Store> {
  const clock = opts.clock ?? systemClock;
  const intervalMs = positiveOption(
    opts.checkpointIntervalMs,
    CHECKPOINT_INTERVAL_MS,
    "checkpointIntervalMs",
  );
  const walCapMiB = positiveOption(opts.walCapMiB, WAL_CAP_MIB, "walCapMiB");
  const offThreadAfterMiB = opts.offThreadAfterMiB ?? OFF_THREAD_AFTER_MIB;
  if (!Number.isFinite(offThreadAfterMiB) || offThreadAfterMiB < 0)
    throw new Error(`openStore: offThreadAfterMiB must be a number ≥ 0, got ${offThreadAfterMiB}`);
  const offThreadBytes = offThreadAfterMiB * 1024 * 1024;
  const cacheSize = opts.statementCacheSize ?? STATEMENT_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 0)
    throw new Error(`openStore: statementCacheSize must be a whole number ≥ 0, got ${cacheSize}`);
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
  const pageSize = Number(sqlite.pragma("page_size", { simple: true }));
  const capBytes = Math.ceil(walCapMiB * 1024 * 1024);
  sqlite.pragma(`wal_autocheckpoint = ${Math.max(1, Math.ceil(capBytes / pageSize))}`);
  sqlite.pragma(`journal_size_limit = ${capBytes}`);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingDatabase(sqlite, cacheSize) }),
  });
  try {
    if (!(await migrationsCurrent(db))) await migrate(db, file);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const checkpointer = new Checkpointer(sqlite, file, offThreadBytes);
  let open = true;
  let cancel = (): void => {};
  const tick = (): void => {
    checkpointer.tick();
    if (open) cancel = clock.setTimer(intervalMs, tick);
  };
  cancel = clock.setTimer(intervalMs, tick);
  return {
    db,
    file,
    close: async () => {
      if (!open) return;
      open = false;
      cancel();
      await checkpointer.close();
      await db.destroy();
    },
  };
}

/** The checkpoint thread's code (plain CommonJS: a worker given code to evaluate gets `require`). */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
parentPort.on("message", (m) => {
  if (m === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Tried again on the next tick; the autocheckpoint cap bounds the WAL meanwhile.
  }
  parentPort.postMessage("done");
});
`;

/**
 * Runs the WAL checkpoints of one store connection away from its commits. A passive
 * checkpoint copies WAL frames into the database file and syncs both (10–20 ms on a busy
 * disk): on the event loop that stalls every request in flight. So once the WAL file reaches
 * `offThreadBytes`, checkpoints run on a worker thread with its own connection (a passive
 * checkpoint does not block writers); before that, and if the thread cannot start, they wait
 * for `close()`, which checkpoints on the calling thread.
 */
class Checkpointer {
  #sqlite: SQLite.Database;
  #file: string;
  #offThreadBytes: number;
  #worker: Worker | undefined;
  #workerFailed = false;
  #busy = false;

  constructor(sqlite: SQLite.Database, file: string, offThreadBytes: number) {
    this.#sqlite = sqlite;
    this.#file = file;
    this.#offThreadBytes = offThreadBytes;
  }

  /** One timer tick: asks the thread for a checkpoint, starting it if the WAL has grown. */
  tick(): void {
    if (this.#busy) return;
    if (!this.#worker) {
      if (this.#workerFailed || walBytes(this.#file) < this.#offThreadBytes) return;
      this.#worker = this.#startWorker();
      if (!this.#worker) return;
    }
    this.#busy = true;
    this.#worker.postMessage("checkpoint");
  }

  #startWorker(): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(CHECKPOINT_WORKER, {
        eval: true,
        workerData: { driver: createRequire(import.meta.url).resolve("better-sqlite3"), file: this.#file },
      });
    } catch {
      this.#workerFailed = true;
      return undefined;
    }
    worker.unref();
    worker.on("message", () => {
      this.#busy = false;
    });
    worker.on("error", () => {
      // The thread could not open the store (or died): checkpoints fall back to close() and to
      // the autocheckpoint cap, as before the WAL reached the threshold.
      this.#workerFailed = true;
    });
    worker.on("exit", () => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#busy = false;
    });
    return worker;
  }

  /** Stops the thread (closing its connection), then checkpoints passively on this thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage("close");
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    }
    try {
      // Passive: never waits for another connection's readers (`logs --follow`). When this is
      // the last connection, closing it checkpoints everything and removes the WAL anyway.
      this.#sqlite.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // The connection's own close still checkpoints what it can.
    }
  }
}

/** Size of the store's WAL file in bytes (0 when there is none). */
function walBytes(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

function positiveOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`openStore: ${name} must be a positive number, got ${value}`);
  return value;
}

/**
 * True when the store has applied exactly the migrations this build knows (one query on
 * `kysely_migration`), so opening it needs no Migrator. A missing table (new store) or any
 * difference (older store, or one a newer nightshift migrated) answers false: the Migrator
 * then decides, and reports what it cannot apply.
 */
async function migrationsCurrent(db: Kysely<Database>): Promise<boolean> {
  let applied: { name: string }[];
  try {
    applied = (await db
      .selectFrom("kysely_migration" as never)
      .select("name" as never)
      .execute()) as { name: string }[];
  } catch {
    return false;
  }
  const known = Object.keys(migrations);
  const names = new Set(applied.map((r) => r.name));
  return names.size === known.length && known.every((n) => names.has(n));
}

async function migrate(db: Kysely<Database>, file: string): Promise<void> {
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
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`nightshift: store migration ${failed} failed on ${file}`, { cause: error });
  }
}

/**
 * The better-sqlite3 connection as Kysely's `SqliteDialect` sees it, with a bounded cache of
 * prepared statements: Kysely calls `prepare(sql)` on every query, and preparing costs more
 * than running the small statements the store issues. Up to `size` distinct SQL texts are kept
 * (least recently used dropped; 0 keeps none).
 *
 * Reusing a statement is safe for `all` and `run`: better-sqlite3 runs them to completion and
 * resets the statement, also when they throw. `iterate` (Kysely's `.stream()`) keeps its
 * statement busy until the iterator ends, so it always runs on a freshly prepared statement
 * that nothing else can reach. SQLite re-prepares a cached statement itself when the schema
 * changes under it.
 *
 * @throws whatever better-sqlite3's `prepare` throws for invalid SQL (nothing is cached then).
 */
export function cachingDatabase(
  sqlite: SQLite.Database,
  size: number,
): SqliteDatabase & { cached(): number } {
  const cache = new Map<string, SqliteStatement>();
  const wrap = (sql: string, stmt: SQLite.Statement): SqliteStatement => ({
    reader: stmt.reader,
    all: (parameters) => stmt.all(parameters),
    run: (parameters) => stmt.run(parameters),
    iterate: (parameters) => sqlite.prepare(sql).iterate(parameters),
  });
  return {
    prepare(sql) {
      const hit = cache.get(sql);
      if (hit) {
        // Most recently used last: Map keeps insertion order.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = wrap(sql, sqlite.prepare(sql));
      if (size > 0) {
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
    cached: () => cache.size,
  };
}
