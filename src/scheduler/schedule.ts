import { Cron } from "croner";
import cronstrue from "cronstrue";
import { ScheduleError } from "./errors.ts";
import { DAY_MS, offsetAt, resolveTimeZone, wallToInstant } from "./tz.ts";

/** Schedule presets accepted instead of a cron expression; `at` sets their time of day. */
export type SchedulePreset = "hourly" | "daily" | "weekdays" | "weekly";

const PRESETS: readonly SchedulePreset[] = ["hourly", "daily", "weekdays", "weekly"];

/** True when `schedule` names a preset rather than a cron expression. */
export function isSchedulePreset(schedule: string): schedule is SchedulePreset {
  return (PRESETS as readonly string[]).includes(schedule);
}

/** A schedule trigger as written in a routine file: `{schedule, at?, timezone?}`. */
export interface ScheduleSpec {
  /** A 5-field cron expression (`"0 9 * * 1-5"`) or a preset (`hourly`, `daily`, `weekdays`, `weekly`). */
  schedule: string;
  /** Time of day `"HH:MM"` for a preset (`hourly` uses only the minutes; `":MM"` is accepted too). */
  at?: string;
  /** IANA time zone the cron expression is read in; default `"UTC"`. */
  timezone?: string;
}

/** Options of {@link compileSchedule}. */
export interface CompileScheduleOptions {
  /** Smallest allowed gap between two fires, in ms (`scheduler.min_interval`); default 60_000. */
  minIntervalMs?: number;
}

/** A validated schedule that computes its fire times. All times are ms since the Unix epoch. */
export interface CompiledSchedule {
  /** The 5-field cron expression (presets expanded). */
  cron: string;
  /** Canonical IANA time zone the expression is read in. */
  timezone: string;
  /** English reading, such as `"At 09:00, Monday through Friday (Europe/Berlin)"`. */
  description: string;
  /** The first fire strictly after `t` (ms), or `undefined` when the schedule never fires again. */
  nextAfter(t: number): number | undefined;
  /**
   * The fires in `(from, to]` (ms), ascending, at most `limit` of them (default 10_000; the
   * earliest are kept).
   */
  slotsBetween(from: number, to: number, limit?: number): number[];
}

const FIELD_HELP = `use 5 fields "minute hour day-of-month month day-of-week" such as "0 9 * * 1-5", or a preset: ${PRESETS.join(", ")}`;

/** Where interval sampling starts: Monday 2025-01-06, far from any DST change. */
const SAMPLE_FROM = Date.UTC(2025, 0, 6);
const SAMPLE_MAX_FIRES = 1_500;
const SAMPLE_SPAN_MS = 8 * DAY_MS;
const DEFAULT_SLOT_LIMIT = 10_000;

/**
 * Expands a preset into a cron expression.
 *
 * - `hourly` → `M * * * *` (minute from `at`, default `0`)
 * - `daily` → `M H * * *` (default 00:00)
 * - `weekdays` → `M H * * 1-5`
 * - `weekly` → `M H * * 1` (Mondays)
 *
 * @param at time of day `"HH:MM"`; for `hourly` only its minutes count and `":MM"` is accepted.
 * @throws ScheduleError for an unknown preset or a malformed `at`.
 */
export function presetToCron(preset: SchedulePreset, at?: string): string {
  if (!isSchedulePreset(preset)) {
    throw new ScheduleError(
      `unknown schedule preset ${JSON.stringify(preset)}; use one of ${PRESETS.join(", ")} or a cron expression`,
      String(preset),
    );
  }
  let hour = 0;
  let minute = 0;
  if (at !== undefined) {
    const m = /^(\d{1,2})?:(\d{2})$/.exec(at.trim());
    const h = m?.[1] === undefined ? undefined : Number(m[1]);
    const min = m ? Number(m[2]) : NaN;
    const hourOk = h === undefined ? preset === "hourly" : h <= 23;
    if (!m || !hourOk || min > 59) {
      throw new ScheduleError(
        `"at" must be a time of day "HH:MM" (00:00 to 23:59) such as "09:30"; got ${JSON.stringify(at)}`,
        at,
      );
    }
    hour = h ?? 0;
    minute = min;
  }
  switch (preset) {
    case "hourly":
      return `${minute} * * * *`;
    case "daily":
      return `${minute} ${hour} * * *`;
    case "weekdays":
      return `${minute} ${hour} * * 1-5`;
    case "weekly":
      return `${minute} ${hour} * * 1`;
  }
}

/** Formats a gap compactly for messages: `1m`, `90s`, `1h30m`, `2d`. */
function formatGap(ms: number): string {
  const units: [number, string][] = [
    [DAY_MS, "d"],
    [3_600_000, "h"],
    [60_000, "m"],
    [1_000, "s"],
  ];
  let rest = Math.round(ms);
  let out = "";
  for (const [size, unit] of units) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || `${rest}ms`;
}

function parseCron(expr: string, timezone: string, input: string): Cron {
  try {
    return new Cron(expr, { mode: "5-part", paused: true, timezone });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
    throw new ScheduleError(
      `invalid cron expression ${JSON.stringify(input)}: ${why}; the fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12) and day of week (0-7, 0 and 7 are Sunday), such as "0 9 * * 1-5"`,
      input,
    );
  }
}

/**
 * Validates a schedule trigger and returns an object that computes its fire times.
 *
 * Daylight-saving time follows Vixie cron (as croner does), with one rule made exact:
 * - A *clock-time* schedule — neither the minute nor the hour field starts with `*` (such as
 *   `30 2 * * *`, `0 9,17 * * 1-5`) — fires once per local date and time it names. A time
 *   skipped by clocks going forward fires at the instant the pre-gap offset gives, i.e. shifted
 *   by the gap (02:30 on 2025-03-09 in New York → 03:30 EDT = 07:30Z); a time that happens twice
 *   when clocks go back fires once, at its first occurrence (01:30 on 2025-11-02 → 05:30Z).
 * - An *interval* schedule (the minute or hour field is `*` or a step of `*`, such as every
 *   15 minutes or `0 * * * *`) runs in real time: times skipped by a gap do not fire, and a repeated hour
 *   fires on both passes, so the interval holds. Each fire is still a distinct instant.
 *
 * @throws ScheduleError for an invalid cron expression or preset, `at` given with a cron
 *   expression, an unknown time zone, a schedule that never fires, or one that fires more
 *   often than `opts.minIntervalMs` (checked on consecutive fires over about a week).
 */
export function compileSchedule(spec: ScheduleSpec, opts: CompileScheduleOptions = {}): CompiledSchedule {
  const minIntervalMs = opts.minIntervalMs ?? 60_000;
  if (!Number.isFinite(minIntervalMs) || minIntervalMs < 0) {
    throw new RangeError(`minIntervalMs must be a non-negative number of ms; got ${minIntervalMs}`);
  }
  const timezone = resolveTimeZone(spec.timezone ?? "UTC");
  const source = spec.schedule.trim().replace(/\s+/g, " ");

  let cron: string;
  if (isSchedulePreset(source)) {
    cron = presetToCron(source, spec.at);
  } else {
    if (spec.at !== undefined) {
      throw new ScheduleError(
        `"at" only applies to the presets ${PRESETS.join(", ")}; put the time in the cron expression ${JSON.stringify(source)} instead`,
        spec.at,
      );
    }
    const fields = source === "" ? [] : source.split(" ");
    if (fields.length !== 5) {
      throw new ScheduleError(
        `invalid schedule ${JSON.stringify(spec.schedule)}: it has ${fields.length} field${fields.length === 1 ? "" : "s"}; ${FIELD_HELP}`,
        spec.schedule,
      );
    }
    cron = source;
  }

  const [minuteField = "", hourField = ""] = cron.split(" ");
  const clockTime = !/^[*?]/.test(minuteField) && !/^[*?]/.test(hourField);
  const realTime = parseCron(cron, timezone, spec.schedule);
  const wallTime = clockTime ? parseCron(cron, "UTC", spec.schedule) : undefined;

  const nextAfter = (t: number): number | undefined => {
    if (!Number.isFinite(t)) throw new RangeError(`nextAfter needs a time in ms; got ${t}`);
    if (!wallTime) return realTime.nextRun(new Date(t))?.getTime();
    // Clock-time: enumerate local wall times (croner in UTC) and map each to its instant. The
    // mapping is monotonic except around a gap, so look from the earliest wall time that could
    // land after `t` until later wall times can no longer land before the best found.
    const lowOffset = Math.min(
      offsetAt(t - 2 * DAY_MS, timezone),
      offsetAt(t, timezone),
      offsetAt(t + 2 * DAY_MS, timezone),
    );
    let wall = t + lowOffset;
    let best: number | undefined;
    let highOffset = 0;
    for (;;) {
      const next = wallTime.nextRun(new Date(wall))?.getTime();
      if (next === undefined) return best;
      const instant = wallToInstant(next, timezone);
      if (instant > t && (best === undefined || instant < best)) {
        best = instant;
        highOffset = Math.max(
          offsetAt(best - 2 * DAY_MS, timezone),
          offsetAt(best, timezone),
          offsetAt(best + 2 * DAY_MS, timezone),
        );
      }
      if (best !== undefined && next - highOffset > best) return best;
      wall = next;
    }
  };

  const slotsBetween = (from: number, to: number, limit = DEFAULT_SLOT_LIMIT): number[] => {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`slotsBetween limit must be a non-negative integer; got ${limit}`);
    }
    const slots: number[] = [];
    let t = from;
    while (slots.length < limit) {
      const next = nextAfter(t);
      if (next === undefined || next > to) break;
      slots.push(next);
      t = next;
    }
    return slots;
  };

  const shown = source === cron ? JSON.stringify(cron) : `${source} (${JSON.stringify(cron)})`;
  const first = nextAfter(SAMPLE_FROM);
  if (first === undefined) {
    throw new ScheduleError(
      `the schedule ${shown} never fires (no date matches it); check the day-of-month and month fields`,
      spec.schedule,
    );
  }
  // A 5-field cron fires at most once a minute, so only a coarser minimum needs sampling.
  if (minIntervalMs > 60_000) {
    let prev = first;
    for (let i = 0; i < SAMPLE_MAX_FIRES && prev - first < SAMPLE_SPAN_MS; i++) {
      const next = nextAfter(prev);
      if (next === undefined) break;
      if (next - prev < minIntervalMs) {
        throw new ScheduleError(
          `${shown} fires every ${formatGap(next - prev)}, below the minimum interval of ${formatGap(minIntervalMs)}; use a coarser schedule or lower scheduler.min_interval`,
          spec.schedule,
        );
      }
      prev = next;
    }
  }

  let english: string;
  try {
    english = cronstrue.toString(cron, { use24HourTimeFormat: true });
  } catch {
    english = `cron ${cron}`;
  }

  return { cron, timezone, description: `${english} (${timezone})`, nextAfter, slotsBetween };
}

/**
 * The unique key of a slot: its ISO 8601 instant in UTC (`"2025-03-09T07:30:00.000Z"`). One
 * run per (routine, slotKey) is what makes firing idempotent.
 *
 * @throws RangeError when `t` is not a finite time in ms.
 */
export function slotKey(t: number): string {
  if (!Number.isFinite(t)) throw new RangeError(`slotKey needs a time in ms; got ${t}`);
  return new Date(t).toISOString();
}

/**
 * The next `count` fires after `now` (ms since the epoch) across the schedule triggers among
 * `triggers`, soonest first, each with the time zone of the trigger that fires it. Triggers
 * that are not schedules are ignored; schedules that do not compile are left out
 * (`nightshift routines validate` reports them).
 */
export function nextFireTimes(
  triggers: readonly object[],
  now: number,
  count: number,
): { at: number; timezone: string }[] {
  const out: { at: number; timezone: string }[] = [];
  for (const t of triggers) {
    if (!("schedule" in t)) continue;
    try {
      const s = compileSchedule(t as ScheduleSpec);
      let from = now;
      for (let i = 0; i < count; i++) {
        const at = s.nextAfter(from);
        if (at === undefined) break;
        out.push({ at, timezone: s.timezone });
        from = at;
      }
    } catch {
      // an invalid schedule: reported by `routines validate`
    }
  }
  return out.sort((a, b) => a.at - b.at).slice(0, count);
}
