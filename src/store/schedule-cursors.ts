import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Up to when (ms) a trigger's slots have been handled, and when the scheduler first saw the
 * trigger; undefined the first time.
 */
export async function getScheduleCursor(
  db: Kysely<Database>,
  routine: string,
  triggerKey: string,
): Promise<{ consideredUntil: number; createdAt: number } | undefined> {
  const row = await db
    .selectFrom("schedule_cursors")
    .select(["considered_until", "created_at"])
    .where("routine", "=", routine)
    .where("trigger_key", "=", triggerKey)
    .executeTakeFirst();
  return row
    ? { consideredUntil: Number(row.considered_until), createdAt: Number(row.created_at) }
    : undefined;
}

/**
 * Moves a schedule's cursor forward to `until`; never backwards, so a clock set back does not
 * make old slots due again.
 */
export async function advanceScheduleCursor(
  db: Kysely<Database>,
  routine: string,
  triggerKey: string,
  until: number,
): Promise<void> {
  await db
    .insertInto("schedule_cursors")
    .values({ routine, trigger_key: triggerKey, considered_until: until, created_at: until })
    .onConflict((oc) =>
      oc.columns(["routine", "trigger_key"]).doUpdateSet((eb) => ({
        considered_until: eb.fn("max", [eb.ref("schedule_cursors.considered_until"), eb.val(until)]),
      })),
    )
    .execute();
}
