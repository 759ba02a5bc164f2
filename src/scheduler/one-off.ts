import { parseDuration } from "../config/duration.ts";
import { ScheduleError } from "./errors.ts";

/**
 * A trigger that fires once: at an absolute instant, or a duration after the trigger was
 * created. The run it starts disables the trigger.
 */
export type OneOffSpec = { at: string } | { in: string };

const INSTANT_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * Parses an ISO 8601 instant that carries its offset (`2026-12-01T09:00:00+01:00`,
 * `2026-12-01T08:00Z`) into ms since the epoch. Calendar fields are checked, so
 * `2026-02-30T09:00Z` is rejected rather than rolled over to March.
 *
 * @throws ScheduleError when the text is not such an instant.
 */
export function parseInstant(text: string): number {
  const m = INSTANT_RE.exec(text.trim());
  const fail = (why: string): never => {
    throw new ScheduleError(
      `${JSON.stringify(text)} ${why}; write an ISO 8601 instant with its offset, such as "2026-12-01T09:00:00+01:00" or "2026-12-01T08:00:00Z"`,
      text,
    );
  };
  if (!m) return fail("is not an instant with a time zone offset");
  const [year, month, day, hour, minute, second = 0, offH = 0, offM = 0] = [
    m[1],
    m[2],
    m[3],
    m[4],
    m[5],
    m[6],
    m[8],
    m[9],
  ].map((v) => (v === undefined ? undefined : Number(v)));
  const d = new Date(Date.UTC(year!, month! - 1, day!));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month! - 1 || d.getUTCDate() !== day) {
    return fail(`has no day ${day} in ${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}`);
  }
  if (hour! > 23 || minute! > 59 || second > 59 || offH > 23 || offM > 59) {
    return fail("has a time or offset out of range");
  }
  const ms = Date.parse(m[0].toUpperCase());
  return Number.isNaN(ms) ? fail("cannot be read") : ms;
}

/**
 * When a one-off trigger fires, in ms since the epoch: the `at` instant, or `createdAt` plus
 * the `in` duration (`"30m"`, `"2h"`, `"7d"`, `"2w"`, `"1h30m"`). A time already past is
 * returned as is; the missed-run policy decides what happens to it.
 *
 * @param createdAt when the trigger was created, in ms since the epoch.
 * @throws ScheduleError for a malformed instant or duration, or a spec with both or neither
 *   of `at` and `in`.
 */
export function oneOffTime(spec: OneOffSpec, createdAt: number): number {
  const hasAt = "at" in spec && spec.at !== undefined;
  const hasIn = "in" in spec && spec.in !== undefined;
  if (hasAt === hasIn) {
    throw new ScheduleError(
      `a one-off trigger needs exactly one of "at" (an ISO 8601 instant) or "in" (a duration such as "2h"); got ${JSON.stringify(spec)}`,
      JSON.stringify(spec),
    );
  }
  if ("at" in spec) return parseInstant(String(spec.at));
  const text = String(spec.in);
  const ms = /^\s*\d/.test(text) && !/^\s*\d+(\.\d+)?\s*$/.test(text) ? parseDuration(text) : undefined;
  if (ms === undefined) {
    throw new ScheduleError(
      `"in" must be a duration with a unit such as "30m", "2h", "7d", "2w" or "1h30m"; got ${JSON.stringify(text)}`,
      text,
    );
  }
  if (!Number.isFinite(createdAt)) throw new RangeError(`createdAt must be a time in ms; got ${createdAt}`);
  return createdAt + ms;
}
