import { type Kysely, sql } from "kysely";
import type { Routine } from "../config/routine-schema.ts";
import { type FireRequest, fireRoutines, maxRunningFor } from "../queue/fire.ts";
import { type CompiledSchedule, compileSchedule, type ScheduleSpec, slotKey } from "../scheduler/schedule.ts";
import { planDueSlots } from "../scheduler/missed.ts";
import { oneOffTime } from "../scheduler/one-off.ts";
import { advanceScheduleCursors, cursorKey, getScheduleCursors } from "../store/schedule-cursors.ts";
import { pausedRoutines, pausedSkipReason } from "../store/routine-switches.ts";
import { insertRuns, type NewRun, runKey } from "../store/runs.ts";
import type { Database } from "../store/schema.ts";

/** What one tick did, for logs and tests. */
export interface TickReport {
  /** `reason`: why a fire was only recorded as skipped (an overlap policy, a paused routine). */
  fired: { routine: string; slot: number; outcome: string; reason?: string }[];
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

type Trigger = Routine["triggers"][number];

/** One schedule or one-off trigger of a routine, with what the scheduler derived from it. */
interface TriggerPlan {
  kind: "schedule" | "once";
  trigger: Trigger;
  /** The cursor's trigger key in the store. */
  key: string;
  /** `routine \0 key`: the trigger's identity in the memos. */
  memoKey: string;
  /** The compiled schedule (schedule triggers), or why it does not compile. */
  compiled?: CachedSchedule;
  error?: string;
}

/**
 * What a scheduler keeps between ticks, per store handle (one per process, as the daemon has):
 * - `compiled`: schedules compiled by (spec, minimum interval) — compiling samples fires and
 *   builds the English reading, too costly to redo every tick. A routine whose schedule or time
 *   zone changes has a new spec and so a new entry; entries no routine uses are dropped.
 * - `plans`: each routine object's triggers with their keys and compiled schedules; a routine
 *   file that changes gives a new object (see `RoutineWatcher`), so a new plan.
 * - `nextDue`: when each trigger next falls due (ms); ticks before then skip the store. The
 *   store's cursor stays the truth: another process may have fired the slot already, and the
 *   unique (routine, slot) key keeps that to one run.
 * - `lastRoutines` and `earliest`: when a tick gets the same routines array as the last one
 *   (the watcher's snapshot while nothing changed) and nothing is due before `earliest`, the
 *   tick does nothing at all.
 */
interface SchedulerMemo {
  compiled: Map<string, CachedSchedule | string>;
  plans: WeakMap<Routine, TriggerPlan[]>;
  nextDue: Map<string, number>;
  minIntervalMs: number;
  lastRoutines: readonly Routine[] | undefined;
  earliest: number;
  /** Warnings of the last full pass that persist (schedules that do not compile). */
  warnings: string[];
}

const memos = new WeakMap<Kysely<Database>, SchedulerMemo>();

function memoFor(db: Kysely<Database>, minIntervalMs: number): SchedulerMemo {
  let m = memos.get(db);
  if (!m || m.minIntervalMs !== minIntervalMs) {
    m = {
      compiled: new Map(),
      plans: new WeakMap(),
      nextDue: new Map(),
      minIntervalMs,
      lastRoutines: undefined,
      earliest: -Infinity,
      warnings: [],
    };
    memos.set(db, m);
  }
  return m;
}

/**
 * A compiled schedule whose next-fire computations are remembered: routines sharing a schedule
 * (many "0 * * * *") have their cursors at the same times, so one croner walk serves them all.
 */
class CachedSchedule {
  readonly #compiled: CompiledSchedule;
  readonly #next = new Map<number, number | undefined>();

  constructor(compiled: CompiledSchedule) {
    this.#compiled = compiled;
  }

  /** {@link CompiledSchedule.nextAfter}, remembered for the last few hundred `t`. */
  nextAfter(t: number): number | undefined {
    if (this.#next.has(t)) return this.#next.get(t);
    const next = this.#compiled.nextAfter(t);
    if (this.#next.size >= 512) this.#next.clear();
    this.#next.set(t, next);
    return next;
  }

  /** {@link CompiledSchedule.slotsBetween} (at most 10,000 slots), through {@link nextAfter}. */
  slotsBetween(from: number, to: number): number[] {
    const slots: number[] = [];
    for (let t = from; slots.length < 10_000;) {
      const next = this.nextAfter(t);
      if (next === undefined || next > to) break;
      slots.push(next);
      t = next;
    }
    return slots;
  }
}

function specKey(spec: ScheduleSpec): string {
  return `${spec.schedule}|${spec.at ?? ""}|${spec.timezone ?? ""}`;
}

function planFor(memo: SchedulerMemo, routine: Routine, usedSpecs: Set<string>): TriggerPlan[] {
  let plan = memo.plans.get(routine);
  if (!plan) {
    plan = [];
    for (const trigger of routine.triggers) {
      if ("schedule" in trigger) {
        const key = `schedule:${trigger.schedule}|${trigger.at ?? ""}|${trigger.timezone ?? "UTC"}`;
        const p: TriggerPlan = { kind: "schedule", trigger, key, memoKey: `${routine.name}\u0000${key}` };
        const sk = specKey(trigger);
        let c = memo.compiled.get(sk);
        if (c === undefined) {
          try {
            c = new CachedSchedule(compileSchedule(trigger, { minIntervalMs: memo.minIntervalMs }));
          } catch (err) {
            c = (err as Error).message;
          }
          memo.compiled.set(sk, c);
        }
        if (typeof c === "string") p.error = `${routine.name}: ${c}`;
        else p.compiled = c;
        plan.push(p);
      } else if ("at" in trigger || "in" in trigger) {
        const key = "at" in trigger ? `once:at:${trigger.at}` : `once:in:${trigger.in}`;
        plan.push({ kind: "once", trigger, key, memoKey: `${routine.name}\u0000${key}` });
      }
    }
    memo.plans.set(routine, plan);
  }
  for (const p of plan) if (p.kind === "schedule") usedSpecs.add(specKey(p.trigger as ScheduleSpec));
  return plan;
}

/**
 * Fires the schedule and one-off triggers of `routines` that fell due up to `now`. Each
 * trigger keeps a cursor in the store (how far its slots have been handled) that never moves
 * back, and every slot becomes at most one run — fired, skipped by the overlap policy or
 * because the routine is paused (`nightshift routines pause`; a paused routine's one-off is
 * spent as skipped too), or recorded as missed — because runs are unique per (routine, slot). So two schedulers on one
 * store, or a clock set back, never produce a duplicate, and no slot disappears silently.
 * The first time a trigger is seen its cursor starts at `now` (no back-filling).
 *
 * A tick works out in memory which triggers may be due, then handles all of them in one
 * transaction that holds the store's write lock (`BEGIN IMMEDIATE`) with a fixed number of
 * statements: one reads their cursors, one inserts the missed slots, one reads the paused
 * routines (only when something fires), a few insert the fires
 * (see `fireRoutines`), one advances the cursors. A tick with nothing due reads nothing; given
 * the same `routines` array as the last tick (the `RoutineWatcher` snapshot while no file
 * changed) and nothing due, it does not even look at the routines.
 */
export async function tickSchedules(
  db: Kysely<Database>,
  routines: readonly Routine[],
  opts: TickOptions,
): Promise<TickReport> {
  const { now } = opts;
  const memo = memoFor(db, opts.minIntervalMs);
  if (routines === memo.lastRoutines && now < memo.earliest)
    return { fired: [], missed: [], warnings: [...memo.warnings] };

  const report: TickReport = { fired: [], missed: [], warnings: [] };
  const usedSpecs = new Set<string>();
  const seen = new Set<string>();
  const due: { routine: Routine; plan: TriggerPlan }[] = [];
  let earliest = Infinity;
  for (const routine of routines) {
    if (!routine.enabled) continue;
    for (const plan of planFor(memo, routine, usedSpecs)) {
      if (plan.error !== undefined) {
        report.warnings.push(plan.error);
        continue;
      }
      seen.add(plan.memoKey);
      const nextDue = memo.nextDue.get(plan.memoKey);
      if (nextDue !== undefined && now < nextDue) earliest = Math.min(earliest, nextDue);
      else due.push({ routine, plan });
    }
  }
  const warnings = [...report.warnings];
  // Forget triggers and schedules no routine has any more.
  for (const k of memo.nextDue.keys()) if (!seen.has(k)) memo.nextDue.delete(k);
  for (const k of memo.compiled.keys()) if (!usedSpecs.has(k)) memo.compiled.delete(k);

  // Until the due triggers are handled (and if that fails), the next tick looks at everything.
  memo.lastRoutines = undefined;
  if (due.length > 0) {
    const nextDue = await fireDue(db, due, opts, report);
    for (const [k, t] of nextDue) {
      memo.nextDue.set(k, t);
      earliest = Math.min(earliest, t);
    }
    // A trigger handled without a next time (an `in` seen for the first time) is looked at again.
    if (nextDue.size < due.length) earliest = -Infinity;
  }
  memo.lastRoutines = routines;
  memo.earliest = earliest;
  memo.warnings = warnings;
  return report;
}

/**
 * Handles the triggers that may be due, in one write transaction.
 *
 * @returns when each handled trigger is next due (ms), by memo key; `Infinity` for never.
 */
async function fireDue(
  db: Kysely<Database>,
  due: { routine: Routine; plan: TriggerPlan }[],
  opts: TickOptions,
  report: TickReport,
): Promise<Map<string, number>> {
  const { now } = opts;
  const nextDue = new Map<string, number>();
  const missedRuns: NewRun[] = [];
  const fires: FireRequest[] = [];
  const advance: { routine: string; triggerKey: string }[] = [];
  let results: Awaited<ReturnType<typeof fireRoutines>> = [];
  let inserted = new Map<string, string>();

  await db.connection().execute(async (conn) => {
    // The write lock up front: no other scheduler writes between reading the cursors and runs
    // and writing them back, so every decision of this tick is made on what is stored.
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const cursors = await getScheduleCursors(
        conn,
        due.map(({ routine, plan }) => ({ routine: routine.name, triggerKey: plan.key })),
      );
      for (const { routine, plan } of due) {
        const cursor = cursors.get(cursorKey(routine.name, plan.key));
        if (plan.kind === "schedule") {
          const compiled = plan.compiled!;
          if (cursor && now > cursor.consideredUntil) {
            const slots = compiled.slotsBetween(cursor.consideredUntil, now);
            const policy = routine.missed_runs;
            const dueSlots = planDueSlots(slots, now, policy);
            if (dueSlots.capped)
              report.warnings.push(
                `${routine.name}: more than 100 slots due at once; the oldest were recorded as missed`,
              );
            for (const slot of dueSlots.missed)
              missedRuns.push({
                routine: routine.name,
                trigger: "schedule",
                dedupeKey: `schedule:${slotKey(slot)}`,
                scheduledFor: slot,
                state: "missed",
                reason: `missed: nightshift was not running at ${new Date(slot).toISOString()} (missed_runs: ${typeof policy === "string" ? policy : "catch_up"})`,
                maxRunning: maxRunningFor(routine),
                now,
              });
            for (const slot of dueSlots.fire)
              fires.push({
                routine,
                trigger: "schedule",
                dedupeKey: `schedule:${slotKey(slot)}`,
                scheduledFor: slot,
                now,
              });
          }
          advance.push({ routine: routine.name, triggerKey: plan.key });
          nextDue.set(
            plan.memoKey,
            compiled.nextAfter(Math.max(now, cursor?.consideredUntil ?? now)) ?? Infinity,
          );
        } else {
          const trigger = plan.trigger as Parameters<typeof oneOffTime>[0];
          if (!cursor) {
            advance.push({ routine: routine.name, triggerKey: plan.key });
            if ("in" in trigger) continue; // `in` counts from the first time the trigger is seen
          }
          const at = oneOffTime(trigger, cursor?.createdAt ?? now);
          nextDue.set(plan.memoKey, at > now ? at : Infinity); // once fired (or seen fired), never again
          if (at > now) continue;
          // The dedupe key makes a one-off fire once: afterwards it is spent (disabled) for good.
          fires.push({ routine, trigger: "once", dedupeKey: plan.key, scheduledFor: at, now });
        }
      }
      inserted = await insertRuns(conn, missedRuns);
      // A paused routine's slots are recorded as skipped (one query, only when something fires).
      const paused = fires.length > 0 ? await pausedRoutines(conn) : undefined;
      if (paused?.size)
        for (const f of fires) {
          const p = paused.get(f.routine.name);
          if (p) f.skipReason = pausedSkipReason(p);
        }
      results = await fireRoutines(
        conn,
        fires,
        opts.cancelRunning ? { cancelRunning: opts.cancelRunning } : {},
      );
      await advanceScheduleCursors(conn, advance, now);
      await sql`COMMIT`.execute(conn);
    } catch (err) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw err;
    }
  });

  for (const m of missedRuns)
    if (inserted.has(runKey(m.routine, m.dedupeKey)))
      report.missed.push({ routine: m.routine, slot: m.scheduledFor! });
  fires.forEach((f, i) => {
    const r = results[i]!;
    if (r.outcome !== "duplicate")
      report.fired.push({
        routine: f.routine.name,
        slot: f.scheduledFor!,
        outcome: r.outcome,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
      });
  });
  return nextDue;
}
