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

/**
 * Who holds a claim: the routine and the instant it claimed the item (a claim taken over after
 * it lapsed has a later `claimedAt`, so an old holder never touches its successor's claim).
 */
export interface ClaimHolder {
  routine: string;
  claimedAt: number;
}

/**
 * Renews a live claim held by `holder` until `expiresAt` (the holder's heartbeat).
 *
 * @returns false when the claim is gone: released, or lapsed (expired at or before `now`)
 * and perhaps taken over by someone else.
 */
export async function renewItem(
  db: Kysely<Database>,
  c: { repo: string; number: number; holder: ClaimHolder; now: number; expiresAt: number },
): Promise<boolean> {
  const r = await db
    .updateTable("work_claims")
    .set({ expires_at: c.expiresAt })
    .where("repo", "=", c.repo)
    .where("number", "=", c.number)
    .where("routine", "=", c.holder.routine)
    .where("claimed_at", "=", c.holder.claimedAt)
    .where("expires_at", ">", c.now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Releases a claim (after the item's session, whatever its outcome). With `holder`, only that
 * holder's claim is released: one that lapsed and was taken over is left to its new holder.
 */
export async function releaseItem(
  db: Kysely<Database>,
  repo: string,
  number: number,
  holder?: ClaimHolder,
): Promise<void> {
  let q = db.deleteFrom("work_claims").where("repo", "=", repo).where("number", "=", number);
  if (holder) q = q.where("routine", "=", holder.routine).where("claimed_at", "=", holder.claimedAt);
  await q.execute();
}
