import type { Kysely, Selectable } from "kysely";
import type { Database } from "./schema.ts";

/**
 * The `routine_switches` table (migration 0009): whether a routine is paused, why, when (ms
 * since the epoch) and by whom. Booleans are 0/1.
 */
export interface RoutineSwitchesTable {
  routine: string;
  paused: number;
  reason: string | null;
  changed_at: number;
  changed_by: string;
}

/** A stored switch. */
export type RoutineSwitchRow = Selectable<RoutineSwitchesTable>;

/** A paused routine: why (if a reason was given), since when (ms) and by whom. */
export interface PausedRoutine {
  routine: string;
  reason: string | null;
  since: number;
  by: string;
}

/** Longest pause reason accepted, in characters. */
export const PAUSE_REASON_MAX = 500;

function withSwitches(db: Kysely<Database>) {
  return db.withTables<{ routine_switches: RoutineSwitchesTable }>();
}

/**
 * Pauses (`paused: true`) or resumes a routine, replacing its earlier switch. Pausing a paused
 * routine updates the reason; resuming one that is not paused records the resume all the same.
 *
 * @param s.reason free text shown in the runs a pause skips; at most {@link PAUSE_REASON_MAX}
 *   characters, one line.
 * @throws {Error} when the routine name is empty or the reason is too long or has a line break
 *   or control character.
 */
export async function setRoutinePaused(
  db: Kysely<Database>,
  s: { routine: string; paused: boolean; reason?: string; by: string; now: number },
): Promise<RoutineSwitchRow> {
  if (!s.routine) throw new Error("setRoutinePaused: the routine name is empty");
  const reason = s.reason?.trim() || null;
  if (reason !== null) {
    if (reason.length > PAUSE_REASON_MAX)
      throw new Error(
        `pause reason is ${reason.length} characters long; keep it to ${PAUSE_REASON_MAX} or fewer`,
      );
    if (/[\u0000-\u001f\u007f-\u009f]/.test(reason))
      throw new Error("pause reason has a line break or control character; give it as one line of text");
  }
  const row: RoutineSwitchRow = {
    routine: s.routine,
    paused: s.paused ? 1 : 0,
    reason: s.paused ? reason : null,
    changed_at: s.now,
    changed_by: s.by,
  };
  await withSwitches(db)
    .insertInto("routine_switches")
    .values(row)
    .onConflict((oc) =>
      oc.column("routine").doUpdateSet({
        paused: row.paused,
        reason: row.reason,
        changed_at: row.changed_at,
        changed_by: row.changed_by,
      }),
    )
    .execute();
  return row;
}

/**
 * Every paused routine, by name, in one query (the scheduler reads it once per tick that has
 * something due; webhooks and the API once per fire).
 */
export async function pausedRoutines(db: Kysely<Database>): Promise<Map<string, PausedRoutine>> {
  const rows = await withSwitches(db)
    .selectFrom("routine_switches")
    .selectAll()
    .where("paused", "=", 1)
    .execute();
  return new Map(
    rows.map((r) => [
      r.routine,
      { routine: r.routine, reason: r.reason, since: Number(r.changed_at), by: r.changed_by },
    ]),
  );
}

/** The routine's pause, or undefined when it is not paused. */
export async function routinePause(
  db: Kysely<Database>,
  routine: string,
): Promise<PausedRoutine | undefined> {
  const r = await withSwitches(db)
    .selectFrom("routine_switches")
    .selectAll()
    .where("routine", "=", routine)
    .where("paused", "=", 1)
    .executeTakeFirst();
  return r
    ? { routine: r.routine, reason: r.reason, since: Number(r.changed_at), by: r.changed_by }
    : undefined;
}

/** The last switch of every routine that has one (paused or resumed), by name. */
export async function routineSwitches(db: Kysely<Database>): Promise<Map<string, RoutineSwitchRow>> {
  const rows = await withSwitches(db).selectFrom("routine_switches").selectAll().execute();
  return new Map(rows.map((r) => [r.routine, { ...r, changed_at: Number(r.changed_at) }]));
}

/**
 * The reason a run skipped because its routine is paused records: `routine paused: <reason>`
 * (`routine paused` without one).
 */
export function pausedSkipReason(p: Pick<PausedRoutine, "reason">): string {
  return p.reason ? `routine paused: ${p.reason}` : "routine paused";
}
