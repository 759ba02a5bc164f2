import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, tempDir } from "../support/project.ts";
import { cachingDatabase, openStore } from "../../src/store/db.ts";
import { recordWebhookDelivery } from "../../src/store/webhook-deliveries.ts";

afterAll(cleanupTemp);

interface T {
  t: { id: number; v: string };
}

/** A Kysely handle over a real SQLite file through the statement cache, with its cache size. */
function open(size: number) {
  const database = cachingDatabase(new SQLite(join(tempDir(), "cache.db")), size);
  const db = new Kysely<T>({ dialect: new SqliteDialect({ database }) });
  return { db, cached: () => database.cached() };
}

describe("the prepared-statement cache", () => {
  it("answers distinct and repeated queries correctly while staying within its size", async () => {
    const { db, cached } = open(8);
    await db.schema
      .createTable("t")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("v", "text")
      .execute();
    for (let i = 1; i <= 200; i++)
      await db
        .insertInto("t")
        .values({ id: i, v: `v${i}` })
        .execute();
    expect(cached()).toBeLessThanOrEqual(8);
    // The same SQL with changing parameters, many times over.
    for (let i = 1; i <= 200; i++) {
      const row = await db.selectFrom("t").selectAll().where("id", "=", i).executeTakeFirstOrThrow();
      expect(row).toEqual({ id: i, v: `v${i}` });
    }
    // 60 distinct SQL texts (`in (?, ?, …)` of every length), each run twice, interleaved with
    // the repeated query: far more texts than the cache holds, so entries are evicted and
    // prepared again.
    for (let round = 0; round < 2; round++) {
      for (let n = 1; n <= 60; n++) {
        const ids = Array.from({ length: n }, (_, k) => ((k * 7 + n + round) % 200) + 1);
        const rows = await db.selectFrom("t").select("id").where("id", "in", ids).orderBy("id").execute();
        expect(rows.map((r) => r.id)).toEqual([...new Set(ids)].sort((a, b) => a - b));
        const again = await db.selectFrom("t").select("v").where("id", "=", n).executeTakeFirstOrThrow();
        expect(again.v).toBe(`v${n}`);
        expect(cached()).toBeLessThanOrEqual(8);
      }
    }
    const count = await db
      .selectFrom("t")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(200);
    await db.destroy();
  });

  it("recovers from a statement that fails, and never caches SQL that does not prepare", async () => {
    const { db, cached } = open(16);
    await db.schema
      .createTable("t")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("v", "text")
      .execute();
    await db.insertInto("t").values({ id: 1, v: "one" }).execute();
    // The same INSERT statement: a constraint failure, then a success with other parameters.
    await expect(db.insertInto("t").values({ id: 1, v: "again" }).execute()).rejects.toThrow(/UNIQUE/);
    await db.insertInto("t").values({ id: 2, v: "two" }).execute();
    // A failure inside a transaction rolls it back, and the cached BEGIN/COMMIT still work.
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto("t").values({ id: 3, v: "three" }).execute();
        await trx.insertInto("t").values({ id: 1, v: "dup" }).execute();
      }),
    ).rejects.toThrow(/UNIQUE/);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("t").values({ id: 4, v: "four" }).execute();
    });
    const before = cached();
    await expect(sql`selec nonsense`.execute(db)).rejects.toThrow(/syntax error/);
    await expect(sql`select * from missing_table`.execute(db)).rejects.toThrow(/no such table/);
    expect(cached()).toBe(before);
    const rows = await db.selectFrom("t").selectAll().orderBy("id").execute();
    expect(rows).toEqual([
      { id: 1, v: "one" },
      { id: 2, v: "two" },
      { id: 4, v: "four" },
    ]);
    await db.destroy();
  });

  it("follows a schema change under a cached statement", async () => {
    const { db } = open(16);
    await db.schema.createTable("t").addColumn("id", "integer").execute();
    await db
      .insertInto("t")
      .values({ id: 1 } as never)
      .execute();
    const all = () => sql<Record<string, unknown>>`select * from t`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1 }]);
    await db.schema
      .alterTable("t")
      .addColumn("v", "text", (c) => c.defaultTo("d"))
      .execute();
    expect((await all()).rows).toEqual([{ id: 1, v: "d" }]);
    await db.destroy();
  });

  it("streams on a statement of its own, so the same SQL can run while a stream is open", async () => {
    const { db } = open(16);
    await db.schema
      .createTable("t")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("v", "text")
      .execute();
    for (let i = 1; i <= 5; i++)
      await db
        .insertInto("t")
        .values({ id: i, v: `v${i}` })
        .execute();
    const query = () => db.selectFrom("t").selectAll().where("id", ">=", 2).orderBy("id");
    await query().execute(); // cached now
    const streamed: number[] = [];
    for await (const row of query().stream()) streamed.push(row.id);
    expect(streamed).toEqual([2, 3, 4, 5]);
    await db.destroy();

    // Kysely holds its one connection while a stream is open, so nothing else reaches the
    // connection through it then; the wrapper is safe even when called directly, as its driver
    // does: the cached statement runs while another iteration of the same SQL is mid-way.
    const database = cachingDatabase(new SQLite(join(tempDir(), "direct.db")), 16);
    database.prepare("create table t (id integer primary key)").run([]);
    for (let i = 1; i <= 5; i++) database.prepare("insert into t (id) values (?)").run([i]);
    const text = "select id from t where id >= ? order by id";
    const seen: unknown[] = [];
    for (const row of database.prepare(text).iterate([2])) {
      seen.push(row);
      expect(database.prepare(text).all([4])).toEqual([{ id: 4 }, { id: 5 }]);
      expect([...database.prepare(text).iterate([5])]).toEqual([{ id: 5 }]);
    }
    expect(seen).toEqual([{ id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }]);
    database.close();
  });

  it("serves the store's own queries through openStore", async () => {
    const store = await openStore(join(tempDir(), "nightshift.db"), { statementCacheSize: 4 });
    for (let i = 0; i < 50; i++)
      expect(
        await recordWebhookDelivery(store.db, {
          source: "github",
          deliveryId: `d${i % 25}`,
          event: "push",
          now: i,
        }),
      ).toBe(i < 25);
    const n = await store.db
      .selectFrom("webhook_deliveries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    expect(n.n).toBe(25);
    await store.close();
  });

  it("rejects a cache size that is not a whole number ≥ 0", async () => {
    await expect(openStore(join(tempDir(), "x.db"), { statementCacheSize: -1 })).rejects.toThrow(
      /statementCacheSize must be a whole number/,
    );
  });
});
