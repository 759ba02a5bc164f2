import type { Kysely } from "kysely";
import type { Routine } from "../config/routine-schema.ts";
import type { WorkerPool } from "../queue/worker-pool.ts";
import { AGENT_ADAPTERS } from "../runner/agents/index.ts";
import type { Database } from "../store/schema.ts";
import type { Logger } from "./logger.ts";

/**
 * The daemon's readable activity lines: one per session start and finish (and failure), each
 * with the facts in its message — so the pretty log reads as a story — and in fields for JSON.
 * Fires are logged where they happen (schedule ticks, the API, webhooks); a run that could not
 * start and a run requeued by a shutdown are logged by the worker pool itself.
 */
export function logPoolActivity(pool: WorkerPool, db: Kysely<Database>, logger: Logger): void {
  pool.on("claimed", (run) => {
    const session = run.session_id ? `, session ${run.session_id}` : "";
    logger.info(
      {
        run: run.id,
        routine: run.routine,
        trigger: run.trigger,
        attempt: run.attempt,
        session: run.session_id,
      },
      `started ${run.routine} (${run.trigger}; run ${run.id}${session}, attempt ${run.attempt} of ${run.max_attempts})`,
    );
  });
  pool.on("finished", (run, outcome) => {
    if (outcome === "failed" || outcome === "requeued") return; // the pool says why itself
    void describeFinish(db, run.id, outcome)
      .then(({ level, fields, msg }) => logger[level]({ run: run.id, routine: run.routine, ...fields }, msg))
      .catch((err: unknown) =>
        logger.error({ run: run.id, error: String(err) }, "could not log a finished run"),
      );
  });
}

/** The line for a run that ended: from the run and its (last) session as stored. */
async function describeFinish(
  db: Kysely<Database>,
  runId: string,
  outcome: "done" | "retry" | "cancelled",
): Promise<{ level: "info" | "warn" | "error"; fields: Record<string, unknown>; msg: string }> {
  const run = await db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
  const session = run.session_id
    ? await db
        .selectFrom("sessions")
        .select([
          "id",
          "state",
          "task_outcome",
          "infra_outcome",
          "reason",
          "pr_number",
          "created_at",
          "finished_at",
        ])
        .where("id", "=", run.session_id)
        .executeTakeFirst()
    : undefined;
  const who = `${run.routine}${session ? ` session ${session.id}` : ""} (run ${run.id})`;
  const took =
    session?.finished_at != null
      ? ` in ${formatSeconds(Number(session.finished_at) - Number(session.created_at))}`
      : "";
  const fields: Record<string, unknown> = {
    session: session?.id ?? null,
    state: session?.state ?? run.state,
    task_outcome: session?.task_outcome ?? null,
    infra_outcome: session?.infra_outcome ?? null,
    pr: session?.pr_number ?? null,
  };
  const reason = session?.reason ?? run.reason;
  if (outcome === "retry")
    return {
      level: "warn",
      fields,
      msg: `${who} failed${took}, will retry (attempt ${run.attempt} of ${run.max_attempts}): ${reason ?? "no reason recorded"}`,
    };
  if (outcome === "cancelled")
    return { level: "warn", fields, msg: `${who} cancelled${took}: ${reason ?? "cancelled"}` };
  if (!session) return { level: "info", fields, msg: `${who} finished: ${run.reason ?? "done"}` };
  if (session.state === "succeeded") {
    const result =
      session.pr_number !== null ? `draft PR #${session.pr_number}` : (session.task_outcome ?? "done");
    return { level: "info", fields, msg: `${who} succeeded${took}: ${result}` };
  }
  const outcomeName = session.task_outcome ?? session.infra_outcome ?? session.state;
  return {
    level: "error",
    fields,
    msg: `${who} ${session.state}${took} (${outcomeName}): ${reason ?? "no reason recorded"}`,
  };
}

/** `42 s`, `3 min 5 s`. */
export function formatSeconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
}

/**
 * Warns once per agent whose enabled routines cannot run because the daemon's environment has
 * no credentials for it (each adapter's `checkCredentials`), naming the routines and the fix.
 * @returns the warnings written.
 */
export function warnMissingCredentials(
  routines: readonly Routine[],
  env: NodeJS.ProcessEnv,
  logger: Logger,
): string[] {
  const byAgent = new Map<Routine["agent"], string[]>();
  for (const r of routines) {
    if (!r.enabled) continue;
    byAgent.set(r.agent, [...(byAgent.get(r.agent) ?? []), r.name]);
  }
  const warnings: string[] = [];
  for (const [agent, names] of byAgent) {
    const problem = AGENT_ADAPTERS[agent].checkCredentials(env);
    if (!problem) continue;
    const msg = `enabled routine${names.length === 1 ? "" : "s"} ${names.join(", ")} will fail until ${agent} has credentials in the daemon's environment: ${problem}`;
    logger.warn({ agent, routines: names }, msg);
    warnings.push(msg);
  }
  return warnings;
}

/**
 * The line `nightshift serve` writes when asked to stop: what it waits for and how long.
 * @param running - the runs in progress (their session, when it has one).
 */
export function shutdownMessage(
  signal: string,
  graceMs: number,
  running: readonly { routine: string; session: string | null }[],
): string {
  if (running.length === 0) return `${signal}: stopping; no session is running, so nothing to wait for`;
  const list = running.map((r) => (r.session ? `${r.routine} session ${r.session}` : r.routine)).join(", ");
  return (
    `${signal}: stopping; no new work is claimed. Waiting up to ${formatSeconds(graceMs)} (server.shutdown_grace) ` +
    `for ${running.length} running session${running.length === 1 ? "" : "s"} to finish (${list}); ` +
    "then they are stopped and their runs requeued for the next start"
  );
}
