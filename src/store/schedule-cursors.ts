import { type Kysely, sql } from "kysely";
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

/** A trigger's cursor, as {@link getScheduleCursor} reads it. */
export interface ScheduleCursor {
  consideredUntil: number;
  createdAt: number;
}

/** The key {@link getScheduleCursors} uses for a (routine, trigger key) pair. */
export function cursorKey(routine: string, triggerKey: string): string {
  return `${routine}\u0000${triggerKey}`;
}

/**
 * The cursors of many triggers in one query (see {@link getScheduleCursor}).
 *
 * @returns the cursors that exist, keyed by {@link cursorKey}; a missing pair has none yet.
 */
export async function getScheduleCursors(
  db: Kysely<Database>,
  pairs: readonly { routine: string; triggerKey: string }[],
): Promise<Map<string, ScheduleCursor>> {
  const found = new Map<string, ScheduleCursor>();
  if (pairs.length === 0) return found;
  const json = JSON.stringify(pairs.map((p) => [p.routine, p.triggerKey]));
  const { rows } = await sql<{
    routine: string;
    trigger_key: string;
    considered_until: number;
    created_at: number;
  }>`
    SELECT c.routine, c.trigger_key, c.considered_until, c.created_at FROM json_each(${json}) j
      JOIN schedule_cursors c
        ON c.routine = json_extract(j.value, '$[0]') AND c.trigger_key = json_extract(j.value, '$[1]')`.execute(
    db,
  );
  for (const r of rows)
    found.set(cursorKey(r.routine, r.trigger_key), {
      consideredUntil: Number(r.considered_until),
      createdAt: Number(r.created_at),
    });
  return found;
}

/**
 * {@link advanceScheduleCursor} for many triggers in one statement: each cursor moves forward
 * to `until`, never backwards, and a new one is created at `until`.
 */
export async function advanceScheduleCursors(
  db: Kysely<Database>,
  pairs: readonly { routine: string; triggerKey: string }[],
  until: number,
): Promise<void> {
  if (pairs.length === 0) return;
  const json = JSON.stringify(pairs.map((p) => [p.routine, p.triggerKey]));
  // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT, not a join.
  await sql`
    INSERT INTO schedule_cursors (routine, trigger_key, considered_until, created_at)
    SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ${until}, ${until}
      FROM json_each(${json}) j WHERE true
    ON CONFLICT (routine, trigger_key)
      DO UPDATE SET considered_until = max(schedule_cursors.considered_until, excluded.considered_until)`.execute(
    db,
  );
}
