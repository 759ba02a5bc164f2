import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, tempDir } from "../support/project.ts";
import { openStore } from "../../src/store/db.ts";
import { migrationProvider, migrations } from "../../src/store/migrations/index.ts";

afterAll(cleanupTemp);

const tableNames = async (db: Kysely<unknown>) =>
  (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows.map(
    (r) => r.name,
  );
const appliedNames = async (db: Kysely<unknown>) =>
  (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map(
    (r) => r.name,
  );

describe("opening the store", () => {
  it("opens a current store without running the migrator", async () => {
    const file = join(tempDir(), "nightshift.db");
    await (await openStore(file)).close();
    // The Migrator creates its lock table whenever it runs: with it gone, a second open that
    // skipped the Migrator leaves it gone.
    const raw = new SQLite(file);
    raw.exec("drop table kysely_migration_lock");
    raw.close();
    const store = await openStore(file);
    const db = store.db as unknown as Kysely<unknown>;
    expect(await tableNames(db)).not.toContain("kysely_migration_lock");
    expect(await appliedNames(db)).toEqual(Object.keys(migrations));
    await store.close();
  });

  it("migrates a store left at 0004 to the latest", async () => {
    const file = join(tempDir(), "nightshift.db");
    const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const r = await new Migrator({ db: old, provider: migrationProvider }).migrateTo("0004-work-claims");
    expect(r.error).toBeUndefined();
    await sql`insert into work_claims (repo, number, routine, claimed_at, expires_at) values ('o/r', 7, 'fix', 1, 2)`.execute(
      old,
    );
    await old.destroy();

    const store = await openStore(file);
    const db = store.db as unknown as Kysely<unknown>;
    expect(await appliedNames(db)).toEqual(Object.keys(migrations));
    const columns = (await sql<{ name: string }>`select name from pragma_table_info('sessions')`.execute(db))
      .rows;
    expect(columns.map((c) => c.name)).toEqual(expect.arrayContaining(["test_command", "model_source"]));
    const claims = await store.db.selectFrom("work_claims").selectAll().execute();
    expect(claims).toEqual([{ repo: "o/r", number: 7, routine: "fix", claimed_at: 1, expires_at: 2 }]);
    await store.close();
  });

  it("still refuses a store migrated by a newer nightshift (a migration it does not know)", async () => {
    const file = join(tempDir(), "nightshift.db");
    await (await openStore(file)).close();
    const raw = new SQLite(file);
    raw
      .prepare("insert into kysely_migration (name, timestamp) values (?, ?)")
      .run("9999-future", new Date().toISOString());
    raw.close();
    await expect(openStore(file)).rejects.toThrow(/store migration .* failed on/);
  });
});
