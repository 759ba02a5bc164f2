import { ScheduleError } from "./errors.ts";

/** One day in ms. */
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Zone names already checked (building an `Intl.DateTimeFormat` costs ~100 µs). */
const resolvedZones = new Map<string, string>();

/**
 * Checks an IANA time zone name and returns its canonical spelling (`"utc"` → `"UTC"`).
 *
 * @throws ScheduleError when the runtime does not know the zone.
 */
export function resolveTimeZone(timeZone: string): string {
  const known = resolvedZones.get(timeZone);
  if (known) return known;
  try {
    if (timeZone.trim() === "") throw new RangeError("empty");
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone }).resolvedOptions().timeZone;
    resolvedZones.set(timeZone, resolved);
    return resolved;
  } catch {
    throw new ScheduleError(
      `unknown time zone ${JSON.stringify(timeZone)}; use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York"`,
      timeZone,
    );
  }
}

/**
 * The wall-clock reading of an instant in a zone, as if that reading were UTC: ms since the
 * epoch of the local date and time (seconds kept, sub-second ms kept).
 */
export function wallClock(instant: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(instant));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wholeSeconds = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return wholeSeconds + (instant - Math.floor(instant / 1000) * 1000);
}

/** The zone's UTC offset at an instant, in ms (New York in winter: `-18_000_000`). */
export function offsetAt(instant: number, timeZone: string): number {
  return wallClock(instant, timeZone) - instant;
}

/**
 * The instant at which a zone's clocks show a wall-clock time (given as if it were UTC).
 *
 * - A time that happens twice (clocks go back) resolves to its first occurrence.
 * - A time that never happens (clocks go forward) resolves to the instant the pre-gap offset
 *   gives, which lies after the gap and is shifted by the gap's length: 02:30 on the day New
 *   York springs forward becomes 03:30 EDT (07:30Z).
 *
 * Assumes at most one offset change within a day either side of the wall time, which holds
 * for every zone in the tz database.
 */
export function wallToInstant(wall: number, timeZone: string): number {
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  let best: number | undefined;
  for (const offset of before === after ? [before] : [before, after]) {
    const candidate = wall - offset;
    if (offsetAt(candidate, timeZone) === offset && (best === undefined || candidate < best))
      best = candidate;
  }
  return best ?? wall - before;
}

/** Splits a wall-clock reading (as if UTC) into calendar fields. */
export function wallFields(wall: number): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
} {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

/** Formats an instant as the zone's local `YYYY-MM-DD HH:MM`. */
export function formatLocal(instant: number, timeZone: string): string {
  return new Date(wallClock(instant, timeZone)).toISOString().slice(0, 16).replace("T", " ");
}
