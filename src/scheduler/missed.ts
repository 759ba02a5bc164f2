import { ScheduleError } from "./errors.ts";

/**
 * What to do with schedule slots that fell due while nothing was running (the daemon was down
 * or asleep):
 * - `"skip"`: none of the late slots run.
 * - `"fire-once"`: one run stands for all of them (the latest late slot), unless a slot is on
 *   time, which already stands for them.
 * - `{ catch_up: windowMs }`: every late slot at most `windowMs` old runs; older ones do not.
 */
export type MissedPolicy = "skip" | "fire-once" | { catch_up: number };

/** Options of {@link planDueSlots}. */
export interface PlanDueSlotsOptions {
  /** A slot at most this old (ms) is on time and always fires; default 60_000. */
  graceMs?: number;
  /** Most slots fired in one plan; the rest are missed and `capped` is set. Default 100. */
  cap?: number;
}

/** The outcome of {@link planDueSlots}: every due slot is in exactly one of `fire` or `missed`. */
export interface DuePlan {
  /** Slots to run now, ascending. */
  fire: number[];
  /** Slots that will not run (to record and alert on), ascending. */
  missed: number[];
  /** True when `cap` turned slots that the policy would fire into missed ones. */
  capped: boolean;
}

/**
 * Decides which due slots run and which are recorded as missed. Times are ms since the epoch.
 *
 * On-time slots (`now - slot <= graceMs`) always fire. Late slots follow `policy`; with
 * `"fire-once"` the latest late slot fires only when no slot is on time. At most `cap` slots
 * fire — the most recent ones — and the older ones become missed.
 *
 * @param due slots in `(lastTick, now]`; order does not matter, duplicates count once.
 * @param now the current time in ms.
 * @throws ScheduleError for a catch-up window that is not a non-negative number of ms.
 * @throws RangeError for a slot after `now`, or a negative grace or cap.
 */
export function planDueSlots(
  due: readonly number[],
  now: number,
  policy: MissedPolicy,
  opts: PlanDueSlotsOptions = {},
): DuePlan {
  const graceMs = opts.graceMs ?? 60_000;
  const cap = opts.cap ?? 100;
  if (!Number.isFinite(graceMs) || graceMs < 0)
    throw new RangeError(`graceMs must be >= 0 ms; got ${graceMs}`);
  if (!Number.isInteger(cap) || cap < 0)
    throw new RangeError(`cap must be a non-negative integer; got ${cap}`);
  if (typeof policy === "object") {
    const w = policy.catch_up;
    if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
      throw new ScheduleError(
        `the catch_up window must be a non-negative duration in ms, such as 7_200_000 for 2h; got ${JSON.stringify(w)}`,
        String(w),
      );
    }
  }

  const slots = [...new Set(due)].sort((a, b) => a - b);
  const future = slots.find((s) => s > now);
  if (future !== undefined) {
    throw new RangeError(
      `slot ${new Date(future).toISOString()} is after now (${new Date(now).toISOString()}); pass only slots in (lastTick, now]`,
    );
  }

  const onTime = slots.filter((s) => now - s <= graceMs);
  const late = slots.filter((s) => now - s > graceMs);
  let lateFired: number[];
  if (policy === "skip") lateFired = [];
  else if (policy === "fire-once") lateFired = onTime.length > 0 || late.length === 0 ? [] : [late.at(-1)!];
  else lateFired = late.filter((s) => now - s <= policy.catch_up);

  const wanted = [...lateFired, ...onTime];
  const fire = wanted.slice(Math.max(0, wanted.length - cap));
  const firing = new Set(fire);
  return { fire, missed: slots.filter((s) => !firing.has(s)), capped: fire.length < wanted.length };
}
