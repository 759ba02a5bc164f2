import type { Kysely } from "kysely";
import type { ConfigError } from "../config/errors.ts";
import type { Project } from "../project.ts";
import type { RunRow } from "../store/runs.ts";
import type { Database } from "../store/schema.ts";
import type { Logger } from "./logger.ts";
import { RoutineWatcher } from "./routine-watch.ts";
import { type TickReport, tickSchedules } from "./schedule-tick.ts";
import { markLateRuns } from "./watchdog.ts";

/** The parts of a scheduler tick, in order, as {@link DaemonSchedulerOptions.probe} names them. */
export type TickPhase = "load" | "schedule" | "watchdog" | "check";

/** Options of {@link createDaemonScheduler}. */
export interface DaemonSchedulerOptions {
  logger: Logger;
  /** Cancels the running sessions of a routine (the `replace` overlap policy); returns how many. */
  cancelRunning?(routine: string): number;
  /** The store handle to use; default `project.store.db` (benchmarks pass an instrumented one). */
  db?: Kysely<Database>;
  /** How often the routines folder is checked in full besides watching it, ms; default 60_000. */
  fullCheckMs?: number;
  /** Called when each phase of a tick starts and ends (benchmarks time them). */
  probe?(phase: TickPhase, edge: "start" | "end"): void;
}

/** What one {@link DaemonScheduler.tick} did. */
export interface DaemonTick {
  /** The clock's time the tick used, ms. */
  now: number;
  report: TickReport;
  /** Invalid routine files, as they stand. */
  loadErrors: ConfigError[];
  /** Runs fired whose session has not started in time (just marked). */
  late: RunRow[];
}

/** The daemon's scheduler: the routines folder watched, and one tick function. */
export interface DaemonScheduler {
  readonly watcher: RoutineWatcher;
  /**
   * One scheduler round: brings the routines up to date (only files changed since the last
   * tick are read), fires what fell due (`tickSchedules`), marks late runs, and logs it all;
   * then makes the watcher's periodic full check when it is due (see `RoutineWatcher`).
   */
  tick(): Promise<DaemonTick>;
  /** Stops watching the routines folder. */
  close(): void;
}

/**
 * The scheduler `nightshift serve` runs every tick (and `bench/scheduler.ts` measures). Problems
 * that persist — an invalid routine file, a schedule that does not compile — are logged once
 * while they last, not every tick, and again if they come back after going away.
 */
export function createDaemonScheduler(project: Project, opts: DaemonSchedulerOptions): DaemonScheduler {
  const { logger } = opts;
  const db = opts.db ?? project.store.db;
  const probe = opts.probe ?? (() => undefined);
  const watcher = new RoutineWatcher(project.root, {
    clock: project.clock,
    ...(opts.fullCheckMs !== undefined ? { fullCheckMs: opts.fullCheckMs } : {}),
  });
  let warned = new Set<string>();
  const warnOnce = (seen: Set<string>, msg: string) => {
    seen.add(msg);
    if (!warned.has(msg)) logger.warn(msg);
  };
  const tick = async (): Promise<DaemonTick> => {
    const seen = new Set<string>();
    probe("load", "start");
    // The files with a watch event (or all of them, when a full check is needed) before firing;
    // the periodic full check after, so that it never delays a fire.
    watcher.refresh({ periodic: false });
    const { routines, errors } = watcher.current();
    probe("load", "end");
    for (const e of errors) warnOnce(seen, `invalid routine file skipped: ${e.message}`);
    const now = project.clock.now();
    probe("schedule", "start");
    const report = await tickSchedules(db, routines, {
      now,
      minIntervalMs: project.config.scheduler.min_interval,
      ...(opts.cancelRunning ? { cancelRunning: opts.cancelRunning } : {}),
    });
    probe("schedule", "end");
    for (const f of report.fired)
      logger.info(
        { routine: f.routine, slot: new Date(f.slot).toISOString(), outcome: f.outcome, reason: f.reason },
        `schedule fired ${f.routine} for ${new Date(f.slot).toISOString()}: ${f.outcome}${f.reason ? ` (${f.reason})` : ""}`,
      );
    for (const m of report.missed)
      logger.warn({ routine: m.routine, slot: new Date(m.slot).toISOString() }, "schedule slot missed");
    for (const w of report.warnings) warnOnce(seen, w);
    warned = seen;
    probe("watchdog", "start");
    const late = await markLateRuns(project.store.db, now, project.config.scheduler.start_deadline);
    probe("watchdog", "end");
    probe("check", "start");
    watcher.refresh(); // what it finds applies from the next tick
    probe("check", "end");
    for (const run of late) {
      logger.warn({ run: run.id, routine: run.routine }, "run fired but its session has not started in time");
    }
    return { now, report, loadErrors: errors, late };
  };
  return { watcher, tick, close: () => watcher.close() };
}
