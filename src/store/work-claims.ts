import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Claims an item (an issue or PR number in a repository) for a routine until `expiresAt`
 * (ms). One atomic statement: an expired claim is taken over, a live one is not.
 *
 * @returns whether the claim is now held by this caller.
 */
export async function claimItem(
  db: Kysely<Database>,
  c: { repo: string; number: number; routine: string; now: number; expiresAt: number },
): Promise<boolean> {
  const row = await db
    .insertInto("work_claims")
    .values({
      repo: c.repo,
      number: c.number,
      routine: c.routine,
      claimed_at: c.now,
      expires_at: c.expiresAt,
    })
    .onConflict((oc) =>
      oc
        .columns(["repo", "number"])
        .doUpdateSet({ routine: c.routine, claimed_at: c.now, expires_at: c.expiresAt })
        .where("work_claims.expires_at", "<=", c.now),
    )
    .returning(["routine"])
    .executeTakeFirst();
  // No row: the conflict's update was skipped because a live claim holds the item.
  return row !== undefined;
}

/** Releases a claim (after the item's session, whatever its outcome). */
export async function releaseItem(db: Kysely<Database>, repo: string, number: number): Promise<void> {
  await db.deleteFrom("work_claims").where("repo", "=", repo).where("number", "=", number).execute();
}
