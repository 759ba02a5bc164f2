import type { Kysely, Selectable } from "kysely";
import { randomId } from "../util/ids.ts";
import type { ApiTokensTable, Database } from "./schema.ts";

/** A stored API token: its hash and prefix, never the token. */
export type ApiTokenRow = Selectable<ApiTokensTable>;

/** Stores a new token's hash for `routine`. */
export async function insertApiToken(
  db: Kysely<Database>,
  t: { routine: string; prefix: string; hash: string; now: number },
): Promise<ApiTokenRow> {
  const row: ApiTokenRow = {
    id: `tok_${randomId(10)}`,
    routine: t.routine,
    prefix: t.prefix,
    hash: t.hash,
    created_at: t.now,
    last_used_at: null,
    revoked_at: null,
  };
  await db.insertInto("api_tokens").values(row).execute();
  return row;
}

/** The live (not revoked) token with this hash, if any. */
export async function findLiveApiToken(db: Kysely<Database>, hash: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom("api_tokens")
    .selectAll()
    .where("hash", "=", hash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
}

/** Tokens of a routine (or all), newest first. */
export async function listApiTokens(db: Kysely<Database>, routine?: string): Promise<ApiTokenRow[]> {
  let q = db.selectFrom("api_tokens").selectAll().orderBy("created_at", "desc");
  if (routine) q = q.where("routine", "=", routine);
  return q.execute();
}

/** Revokes a token by id or prefix. @returns how many tokens were revoked. */
export async function revokeApiToken(
  db: Kysely<Database>,
  routine: string,
  idOrPrefix: string,
  now: number,
): Promise<number> {
  const r = await db
    .updateTable("api_tokens")
    .set({ revoked_at: now })
    .where("routine", "=", routine)
    .where("revoked_at", "is", null)
    .where((eb) => eb.or([eb("id", "=", idOrPrefix), eb("prefix", "=", idOrPrefix)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Notes a token's use. */
export async function touchApiToken(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", id).execute();
}
