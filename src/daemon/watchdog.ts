import type { Kysely } from "kysely";
import type { RunRow } from "../store/runs.ts";
import type { Database } from "../store/schema.ts";

/**
 * The watchdog: pending runs that became available more than `deadlineMs` ago and still have
 * no session get a `late:` reason (once), so a run stuck pending is visible in
 * `nightshift sessions list --all` and the logs instead of silent.
 *
 * @returns the runs marked in this call.
 */
export async function markLateRuns(db: Kysely<Database>, now: number, deadlineMs: number): Promise<RunRow[]> {
  const late = await db
    .selectFrom("runs")
    .selectAll()
    .where("state", "=", "pending")
    .where("available_at", "<", now - deadlineMs)
    .where((eb) => eb.or([eb("reason", "is", null), eb("reason", "not like", "late:%")]))
    .execute();
  for (const r of late) {
    await db
      .updateTable("runs")
      .set({
        reason: `late: fired at ${new Date(Number(r.available_at)).toISOString()} and not started within ${Math.round(deadlineMs / 1000)}s`,
      })
      .where("id", "=", r.id)
      .execute();
  }
  return late;
}
