import { parseDuration } from "../config/duration.ts";
import { ScheduleError } from "./errors.ts";
import { parseInstant } from "./one-off.ts";
import { compileSchedule, type CompileScheduleOptions } from "./schedule.ts";
import { DAY_MS, formatLocal, resolveTimeZone, wallClock, wallFields, wallToInstant } from "./tz.ts";

/** What {@link parsePhrase} understood. Times are ms since the Unix epoch. */
export interface PhraseResult {
  /** A recurring trigger (`schedule` is a 5-field cron) or a one-off (`at` is an ISO instant in UTC). */
  trigger: { schedule: string; timezone: string } | { at: string };
  /** The cron expression, for recurring triggers. */
  cron?: string;
  /** English reading, such as `"At 09:00 (Europe/Berlin)"` or `"once, 2026-12-01 09:00 (Europe/Berlin)"`. */
  description: string;
  /** The next three fire times after `now`; the one fire time of a one-off. */
  next: number[];
}

/** Phrases shown when one is not understood. */
export const PHRASE_EXAMPLES = [
  "daily at 9am",
  "weekdays at 18:30",
  "every weekday at 9:15pm",
  "every monday at 10",
  "weekly on friday at 17:00",
  "every day at noon",
  "monthly on the 1st at 9",
  "every 15 minutes",
  "every 2 hours",
  "hourly",
  "in 2 weeks",
  "tomorrow at 9",
  "at 2026-12-01 09:00",
  "0 9 * * 1-5",
] as const;

const TIME = String.raw`(noon|midnight|\d{1,2}(?::\d{2})?(?: ?[ap]\.?m\.?)?)`;
const DAY_NAMES: Record<string, number> = {
  sun: 0,
  sunday: 0,
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
};
const DAY = String.raw`(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday)s?|sun|mon|tues?|wed|thu(?:rs?)?|fri|sat`;
const DAY_LIST = String.raw`((?:${DAY})(?:(?:, ?| and |, and )(?:${DAY}))*)`;
const AT_TIME = String.raw`(?: at ${TIME})?`;

const MINUTE_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12, 24];

function phraseError(text: string, why: string): ScheduleError {
  return new ScheduleError(`${why}; try one of: ${PHRASE_EXAMPLES.map((p) => `"${p}"`).join(", ")}`, text);
}

/** Reads "9", "9am", "9:30", "9:30pm", "18:30", "noon", "midnight". */
function parseTime(text: string, phrase: string): { hour: number; minute: number } {
  if (text === "noon") return { hour: 12, minute: 0 };
  if (text === "midnight") return { hour: 0, minute: 0 };
  const m = /^(\d{1,2})(?::(\d{2}))?(?: ?([ap])\.?m\.?)?$/.exec(text)!;
  let hour = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  const half = m[3];
  const bad = half ? hour < 1 || hour > 12 : hour > 23;
  if (bad || minute > 59) {
    throw new ScheduleError(
      `${JSON.stringify(text)} in ${JSON.stringify(phrase)} is not a time of day; write 9, 9am, 9:30, 9:30pm, 18:30, noon or midnight`,
      phrase,
    );
  }
  if (half === "a" && hour === 12) hour = 0;
  if (half === "p" && hour !== 12) hour += 12;
  return { hour, minute };
}

function parseDays(list: string): number[] {
  const days = list
    .split(/, and |, ?| and /)
    .map((d) => DAY_NAMES[d.replace(/(day)s$/, "$1")]!)
    .filter((d) => d !== undefined);
  return [...new Set(days)].sort((a, b) => a - b);
}

/** A recurring phrase read as a cron expression, or undefined when it is not one. */
function recurringCron(p: string, phrase: string): string | undefined {
  const at = (
    time: string | undefined,
    fallback = { hour: 0, minute: 0 },
  ): { hour: number; minute: number } => (time === undefined ? fallback : parseTime(time, phrase));
  let m: RegExpExecArray | null;

  if (/^(?:hourly|every hour)$/.test(p)) return "0 * * * *";
  if (/^every minute$/.test(p)) return "* * * * *";
  if ((m = /^every (\d+) ?(?:minutes?|mins?|m)$/.exec(p))) {
    const n = Number(m[1]);
    if (!MINUTE_STEPS.includes(n)) {
      throw new ScheduleError(
        `"${phrase}" cannot be a cron schedule: ${n} does not divide 60, so the gap across each hour would differ; use every ${MINUTE_STEPS.slice(0, -1).join(", ")} or 60 minutes, or a cron expression`,
        phrase,
      );
    }
    return n === 1 ? "* * * * *" : n === 60 ? "0 * * * *" : `*/${n} * * * *`;
  }
  if ((m = /^every (\d+) ?(?:hours?|hrs?|h)$/.exec(p))) {
    const n = Number(m[1]);
    if (!HOUR_STEPS.includes(n)) {
      throw new ScheduleError(
        `"${phrase}" cannot be a cron schedule: ${n} does not divide 24, so the gap across midnight would differ; use every ${HOUR_STEPS.slice(0, -1).join(", ")} or 24 hours, or a cron expression`,
        phrase,
      );
    }
    return n === 1 ? "0 * * * *" : n === 24 ? "0 0 * * *" : `0 */${n} * * *`;
  }
  if ((m = new RegExp(`^(?:daily|every day|each day)${AT_TIME}$`).exec(p))) {
    const t = at(m[1]);
    return `${t.minute} ${t.hour} * * *`;
  }
  if ((m = new RegExp(`^(?:weekdays|on weekdays|every weekday|each weekday)${AT_TIME}$`).exec(p))) {
    const t = at(m[1]);
    return `${t.minute} ${t.hour} * * 1-5`;
  }
  if ((m = new RegExp(`^(?:weekends|on weekends|every weekend|each weekend)${AT_TIME}$`).exec(p))) {
    const t = at(m[1]);
    return `${t.minute} ${t.hour} * * 0,6`;
  }
  if ((m = new RegExp(`^(?:weekly|every week)(?: on ${DAY_LIST})?${AT_TIME}$`).exec(p))) {
    const t = at(m[2]);
    const days = m[1] === undefined ? [1] : parseDays(m[1]);
    return `${t.minute} ${t.hour} * * ${days.join(",")}`;
  }
  if ((m = new RegExp(`^(?:(every|each) |on )?${DAY_LIST}${AT_TIME}$`).exec(p))) {
    // "monday at 10" alone could mean a single Monday: recurring needs "every"/"each" or plurals.
    const plural = m[2]!.split(/, and |, ?| and /).every((d) => /days$/.test(d));
    if (m[1] === undefined && !plural) {
      throw new ScheduleError(
        `"${phrase}" could mean one day or every week; say "every ${p.replace(/^on /, "")}" for a weekly schedule, or give a date such as "at 2026-12-01 10:00" for a single run`,
        phrase,
      );
    }
    const t = at(m[3]);
    return `${t.minute} ${t.hour} * * ${parseDays(m[2]!).join(",")}`;
  }
  if (
    (m = new RegExp(`^(?:monthly|every month)(?: on the (\\d{1,2})(?:st|nd|rd|th)?)?${AT_TIME}$`).exec(p))
  ) {
    const day = m[1] === undefined ? 1 : Number(m[1]);
    if (day < 1 || day > 31) {
      throw new ScheduleError(`"${phrase}": day ${day} is not a day of the month (1-31)`, phrase);
    }
    const t = at(m[2]);
    return `${t.minute} ${t.hour} ${day} * *`;
  }
  // A cron expression typed as is (original case: croner reads "L" and "W" in upper case).
  const raw = phrase.trim().replace(/\s+/g, " ");
  if (/^[\d*?]\S* \S+ \S+ \S+ \S+$/.test(raw)) return raw;
  return undefined;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000 };
const UNIT_DAYS: Record<string, number> = { day: 1, week: 7 };

/** A one-off phrase read as an instant, or undefined when it is not one. */
function oneOffInstant(p: string, phrase: string, now: number, timezone: string): number | undefined {
  let m: RegExpExecArray | null;
  const future = (t: number, said: string): number => {
    if (t <= now) {
      throw new ScheduleError(
        `"${phrase}" is in the past: ${said} is before now (${formatLocal(now, timezone)} ${timezone}); give a later time`,
        phrase,
      );
    }
    return t;
  };

  if ((m = /^in (\d+|an?|one) ?(minute|min|hour|hr|day|week|m|h|d|w)s?$/.exec(p))) {
    const n = /^\d+$/.test(m[1]!) ? Number(m[1]) : 1;
    const unit = { min: "minute", m: "minute", hr: "hour", h: "hour", d: "day", w: "week" }[m[2]!] ?? m[2]!;
    if (n === 0) throw new ScheduleError(`"${phrase}": the delay must be more than zero`, phrase);
    const ms = UNIT_MS[unit];
    if (ms !== undefined) return now + n * ms;
    // Days and weeks keep the local time of day across daylight-saving changes.
    return wallToInstant(wallClock(now, timezone) + n * UNIT_DAYS[unit]! * DAY_MS, timezone);
  }
  if ((m = /^in (\S+)$/.exec(p))) {
    const ms = parseDuration(m[1]!);
    if (ms !== undefined && /[a-z]/.test(m[1]!)) return now + ms;
    return undefined;
  }
  if ((m = new RegExp(`^(?:(today|tomorrow)(?: at)? ${TIME}|${TIME} (today|tomorrow))$`).exec(p))) {
    const which = m[1] ?? m[4]!;
    const time = m[2] ?? m[3]!;
    const { hour, minute } = parseTime(time, phrase);
    const today = wallFields(wallClock(now, timezone));
    const wall = Date.UTC(
      today.year,
      today.month - 1,
      today.day + (which === "tomorrow" ? 1 : 0),
      hour,
      minute,
    );
    return future(wallToInstant(wall, timezone), `${which} at ${time}`);
  }
  if (
    (m = /^(?:at |on )?(\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:\d{2}))$/.exec(p))
  ) {
    return future(parseInstant(m[1]!.toUpperCase()), m[1]!.toUpperCase());
  }
  if ((m = new RegExp(`^(?:at |on )?(\\d{4})-(\\d{2})-(\\d{2})(?:t| at | )${TIME}$`).exec(p))) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      throw new ScheduleError(`"${phrase}": ${m[1]}-${m[2]}-${m[3]} is not a date; write YYYY-MM-DD`, phrase);
    }
    const { hour, minute } = parseTime(m[4]!, phrase);
    return future(
      wallToInstant(Date.UTC(year, month - 1, day, hour, minute), timezone),
      `${m[1]}-${m[2]}-${m[3]}`,
    );
  }
  return undefined;
}

/**
 * Turns an English schedule phrase, as typed at the CLI, into a trigger. Recurring phrases
 * become a cron expression read in `timezone` ("daily at 9am" → `0 9 * * *`, "every monday at 10" →
 * `0 10 * * 1`, "every 2 hours" → every second hour on the hour; see {@link PHRASE_EXAMPLES}); a 5-field
 * cron expression is accepted as is. One-off phrases ("in 2 weeks", "tomorrow at 9",
 * "at 2026-12-01 09:00") become an instant: dates and times of day are local to `timezone`, and
 * "in N days/weeks" keeps the local time of day across daylight-saving changes.
 *
 * Matching ignores case, extra spaces and a final full stop. A bare weekday ("monday at 10")
 * is not accepted, since it could mean one Monday or every Monday.
 *
 * @param now the current time in ms since the epoch; "in", "today" and "tomorrow" count from it.
 * @param timezone IANA time zone of the phrase's dates and times.
 * @param opts passed to {@link compileSchedule} (minimum interval).
 * @throws ScheduleError for an unknown phrase (the message lists example phrases), a time of
 *   day or date that does not exist, an interval that does not divide the hour or day, a
 *   one-off time already past, or an unknown time zone.
 */
export function parsePhrase(
  text: string,
  now: number,
  timezone: string,
  opts: CompileScheduleOptions = {},
): PhraseResult {
  if (!Number.isFinite(now)) throw new RangeError(`now must be a time in ms; got ${now}`);
  const tz = resolveTimeZone(timezone);
  const p = text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/\.$/, "")
    .replace(/ o'?clock$/, "");
  if (p === "") throw phraseError(text, "the schedule phrase is empty");

  const cron = recurringCron(p, text);
  if (cron !== undefined) {
    const compiled = compileSchedule({ schedule: cron, timezone: tz }, opts);
    const next: number[] = [];
    let t = now;
    while (next.length < 3) {
      const n = compiled.nextAfter(t);
      if (n === undefined) break;
      next.push(n);
      t = n;
    }
    return {
      trigger: { schedule: compiled.cron, timezone: tz },
      cron: compiled.cron,
      description: compiled.description,
      next,
    };
  }

  const at = oneOffInstant(p, text, now, tz);
  if (at !== undefined) {
    return {
      trigger: { at: new Date(at).toISOString() },
      description: `once, ${formatLocal(at, tz)} (${tz})`,
      next: [at],
    };
  }
  throw phraseError(text, `could not read ${JSON.stringify(text)} as a schedule`);
}
