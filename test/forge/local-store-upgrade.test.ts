import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import { afterAll, describe, expect, it } from "vitest";
import { LocalForge } from "../../src/forge/local/local-forge.ts";
import { openStore } from "../../src/store/db.ts";
import { migrations } from "../../src/store/migrations/index.ts";
import type { Database } from "../../src/store/schema.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, tempDir } from "../support/project.ts";

afterAll(cleanupTemp);

describe("migration 0003-forge-checks", () => {
  it("upgrades a store with pull requests and comments from before it", async () => {
    const file = join(tempDir(), "nightshift.db");
    // A store as 0002 left it, with one PR and one comment.
    const old = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0003"));
    expect(Object.keys(before)).toEqual(["0001-initial", "0002-daemon"]);
    const r = await new Migrator({
      db: old,
      provider: { getMigrations: async () => before },
    }).migrateToLatest();
    expect(r.error).toBeUndefined();
    await sql`insert into forge_pull_requests (repo, number, title, body, author, head, base, draft, state, session_id, created_at, updated_at)
      values ('demo', 1, 'Old PR', '', 'nightshift[bot]', 'work', 'main', 1, 'open', null, 1, 2)`.execute(
      old,
    );
    await sql`insert into forge_comments (id, repo, number, author, body, created_at)
      values ('c1', 'demo', 1, 'alice', 'old comment', 3)`.execute(old);
    await old.destroy();

    const store = await openStore(file);
    try {
      const forge = new LocalForge({
        db: store.db,
        dir: join(tempDir(), "forge"),
        sources: [],
        clock: new ManualClock(),
      });
      expect(await forge.getPullRequest("demo", 1)).toMatchObject({
        title: "Old PR",
        labels: [],
        draft: true,
      });
      expect((await forge.listComments("demo", 1)).map((c) => c.body)).toEqual(["old comment"]);
      expect(await forge.listReviewThreads("demo", 1)).toEqual([]);
      const sha = "a".repeat(40);
      await forge.recordCheck("demo", sha, {
        name: "ci",
        status: "queued",
        conclusion: null,
        required: true,
      });
      expect(await forge.listChecks("demo", sha)).toEqual([
        { name: "ci", status: "queued", conclusion: null, required: true },
      ]);
    } finally {
      await store.close();
    }
  });
});
