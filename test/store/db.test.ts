import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, tempDir } from "../support/project.ts";
import { openStore } from "../../src/store/db.ts";
import { migrations } from "../../src/store/migrations/index.ts";

afterAll(cleanupTemp);

describe("openStore", () => {
  it("lets several connections open a new store at once, migrating it exactly once", async () => {
    for (let round = 0; round < 5; round++) {
      const file = join(tempDir(), "nightshift.db");
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(file)));
      const applied = await stores[0]!.db
        .selectFrom("kysely_migration" as never)
        .select("name" as never)
        .execute();
      expect(applied).toHaveLength(Object.keys(migrations).length);
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
