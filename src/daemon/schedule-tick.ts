import type { Kysely } from "kysely";
import type { Routine } from "../config/routine-schema.ts";
import { fireRoutine, maxRunningFor } from "../queue/fire.ts";
import { type CompiledSchedule, compileSchedule, type ScheduleSpec, slotKey } from "../scheduler/schedule.ts";
import { planDueSlots } from "../scheduler/missed.ts";
import { oneOffTime } from "../scheduler/one-off.ts";
import { advanceScheduleCursor, getScheduleCursor } from "../store/schedule-cursors.ts";
import { insertRun } from "../store/runs.ts";
import type { Database } from "../store/schema.ts";

/**
 * Compiled schedules by (spec, minimum interval): compiling checks the minimum interval by
 * sampling fires and builds the English reading, too costly to redo for every routine on
 * every tick.
 */
const compiledMemo = new Map<string, CompiledSchedule>();

function compiledSchedule(spec: ScheduleSpec, minIntervalMs: number): CompiledSchedule {
  const key = `${spec.schedule}|${spec.at ?? ""}|${spec.timezone ?? ""}|${minIntervalMs}`;
  let c = compiledMemo.get(key);
  if (!c) {
    c = compileSchedule(spec, { minIntervalMs });
    compiledMemo.set(key, c);
  }
  return c;
}

/**
 * Per store connection, when each schedule trigger next falls due (ms). Ticks before then skip the
 * store. The store's cursor stays the truth: another process may have fired the slot
 * already, and the unique (routine, slot) key keeps that to one run.
 */
const nextDueMemos = new WeakMap<Kysely<Database>, Map<string, number>>();

/** What one tick did, for logs and tests. */
export interface TickReport {
  fired: { routine: string; slot: number; outcome: string }[];
  missed: { routine: string; slot: number }[];
  warnings: string[];
}

/** Options of {@link tickSchedules}. */
export interface TickOptions {
  now: number;
  /** `scheduler.min_interval` in ms. */
  minIntervalMs: number;
  cancelRunning?(routine: string): number;
}

/**
 * Fires the schedule and one-off triggers of `routines` that fell due up to `now`. Each
 * trigger keeps a cursor in the store (how far its slots have been handled) that never moves
 * back, and every slot becomes at most one run — fired, skipped by the overlap policy, or
 * recorded as missed — because runs are unique per (routine, slot). So two schedulers on one
 * store, or a clock set back, never produce a duplicate, and no slot disappears silently.
 * The first time a trigger is seen its cursor starts at `now` (no back-filling).
 */
export async function tickSchedules(
  db: Kysely<Database>,
  routines: Routine[],
  opts: TickOptions,
): Promise<TickReport> {
  const report: TickReport = { fired: [], missed: [], warnings: [] };
  let nextDueMemo = nextDueMemos.get(db);
  if (!nextDueMemo) nextDueMemos.set(db, (nextDueMemo = new Map()));
  // Batches of routines share one transaction: a due minute for thousands of routines is
  // thousands of inserts, and one commit per batch is far cheaper than one per statement.
  const active = routines.filter((r) => r.enabled);
  for (let i = 0; i < active.length; i += TICK_BATCH) {
    const batch = active.slice(i, i + TICK_BATCH);
    await db.transaction().execute(async (trx) => {
      for (const routine of batch) await tickRoutine(trx, routine, opts, nextDueMemo, report);
    });
  }
  return report;
}

/** How many routines one transaction of a tick covers. */
const TICK_BATCH = 200;

async function tickRoutine(
  db: Kysely<Database>,
  routine: Routine,
  opts: TickOptions,
  nextDueMemo: Map<string, number>,
  report: TickReport,
): Promise<void> {
  const { now } = opts;
  for (const trigger of routine.triggers) {
    if ("schedule" in trigger) {
      const key = `schedule:${trigger.schedule}|${trigger.at ?? ""}|${trigger.timezone ?? "UTC"}`;
      let compiled;
      try {
        compiled = compiledSchedule(trigger, opts.minIntervalMs);
      } catch (err) {
        report.warnings.push(`${routine.name}: ${(err as Error).message}`);
        continue;
      }
      // Nothing can be due before the next fire this process last computed: skip the store.
      const memoKey = `${routine.name}\u0000${key}`;
      const nextDue = nextDueMemo.get(memoKey);
      if (nextDue !== undefined && now < nextDue) continue;
      const cursor = await getScheduleCursor(db, routine.name, key);
      if (cursor && now > cursor.consideredUntil) {
        const due = compiled.slotsBetween(cursor.consideredUntil, now);
        const policy = routine.missed_runs;
        const plan = planDueSlots(due, now, policy);
        if (plan.capped)
          report.warnings.push(
            `${routine.name}: more than 100 slots due at once; the oldest were recorded as missed`,
          );
        for (const slot of plan.missed) {
          const r = await insertRun(db, {
            routine: routine.name,
            trigger: "schedule",
            dedupeKey: `schedule:${slotKey(slot)}`,
            scheduledFor: slot,
            state: "missed",
            reason: `missed: nightshift was not running at ${new Date(slot).toISOString()} (missed_runs: ${typeof policy === "string" ? policy : "catch_up"})`,
            maxRunning: maxRunningFor(routine),
            now,
          });
          if (r.inserted) report.missed.push({ routine: routine.name, slot });
        }
        for (const slot of plan.fire) {
          const r = await fireRoutine(
            db,
            {
              routine,
              trigger: "schedule",
              dedupeKey: `schedule:${slotKey(slot)}`,
              scheduledFor: slot,
              now,
            },
            opts.cancelRunning ? { cancelRunning: opts.cancelRunning } : {},
          );
          if (r.outcome !== "duplicate")
            report.fired.push({ routine: routine.name, slot, outcome: r.outcome });
        }
      }
      await advanceScheduleCursor(db, routine.name, key, now);
      nextDueMemo.set(memoKey, compiled.nextAfter(Math.max(now, cursor?.consideredUntil ?? now)) ?? Infinity);
    } else if ("at" in trigger || "in" in trigger) {
      const key = "at" in trigger ? `once:at:${trigger.at}` : `once:in:${trigger.in}`;
      const memoKey = `${routine.name}\u0000${key}`;
      const nextDue = nextDueMemo.get(memoKey);
      if (nextDue !== undefined && now < nextDue) continue;
      const cursor = await getScheduleCursor(db, routine.name, key);
      if (!cursor) {
        await advanceScheduleCursor(db, routine.name, key, now);
        if ("in" in trigger) continue; // `in` counts from the first time the trigger is seen
      }
      const at = oneOffTime(trigger, cursor?.createdAt ?? now);
      nextDueMemo.set(memoKey, at > now ? at : Infinity); // once fired (or seen fired), never again
      if (at > now) continue;
      // The dedupe key makes a one-off fire once: afterwards it is spent (disabled) for good.
      const r = await fireRoutine(
        db,
        { routine, trigger: "once", dedupeKey: key, scheduledFor: at, now },
        opts.cancelRunning ? { cancelRunning: opts.cancelRunning } : {},
      );
      if (r.outcome !== "duplicate")
        report.fired.push({ routine: routine.name, slot: at, outcome: r.outcome });
    }
  }
}
