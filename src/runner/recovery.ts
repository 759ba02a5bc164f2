import { hostname } from "node:os";
import type { Kysely } from "kysely";
import { type Database } from "../store/schema.ts";
import { IDLE_STATES } from "../session/states.ts";
import { processAlive } from "../util/process.ts";

/**
 * Marks as `failed` the unfinished sessions whose runner process, on this host, no longer
 * exists (killed with SIGKILL, a crash, a reboot), and stops their agent's process group if
 * it outlived the runner. Their transcripts are kept as written.
 *
 * @returns the ids of the sessions marked.
 */
export async function recoverInterruptedSessions(db: Kysely<Database>, now: number): Promise<string[]> {
  const open = await db
    .selectFrom("sessions")
    .select(["id", "runner_pid", "agent_pid"])
    .where("state", "not in", IDLE_STATES)
    .where("runner_host", "=", hostname())
    .execute();
  const dead = open.filter(
    (s) => s.runner_pid !== null && s.runner_pid !== process.pid && !processAlive(s.runner_pid),
  );
  for (const s of dead) {
    // The agent ran in its own process group and outlived its runner: stop the whole group.
    if (s.agent_pid !== null) {
      try {
        process.kill(-s.agent_pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await db
      .updateTable("sessions")
      .set({
        state: "failed",
        infra_outcome: "internal_error",
        reason: `the runner process (pid ${s.runner_pid}) stopped before the session finished; the transcript is kept up to that point`,
        finished_at: now,
        runner_pid: null,
        agent_pid: null,
      })
      .where("id", "=", s.id)
      .execute();
  }
  return dead.map((s) => s.id);
}
