import { describe, expect, it } from "vitest";
import { ScheduleError } from "./errors.ts";
import { parsePhrase } from "./phrase.ts";

// Thursday 2026-01-15, 10:00Z = 11:00 in Berlin (CET, UTC+1).
const now = Date.parse("2026-01-15T10:00:00Z");
const tz = "Europe/Berlin";
const isos = (ts: number[]): string[] => ts.map((t) => new Date(t).toISOString());

function recurring(text: string, cron: string, next: string[], zone = tz, when = now): void {
  const r = parsePhrase(text, when, zone);
  expect(r.trigger).toEqual({ schedule: cron, timezone: zone });
  expect(r.cron).toBe(cron);
  expect(isos(r.next)).toEqual(next);
}

function oneOff(text: string, instant: string, zone = tz, when = now): void {
  const r = parsePhrase(text, when, zone);
  expect(r.trigger).toEqual({ at: instant });
  expect(r.cron).toBeUndefined();
  expect(isos(r.next)).toEqual([instant]);
}

function rejection(text: string, zone = tz): ScheduleError {
  try {
    parsePhrase(text, now, zone);
  } catch (err) {
    if (err instanceof ScheduleError) return err;
    throw err;
  }
  throw new Error(`expected "${text}" to be rejected`);
}

describe("parsePhrase: recurring", () => {
  it('"daily at 9am" → 0 9 * * *, from tomorrow since 09:00 has passed', () => {
    recurring("daily at 9am", "0 9 * * *", [
      "2026-01-16T08:00:00.000Z",
      "2026-01-17T08:00:00.000Z",
      "2026-01-18T08:00:00.000Z",
    ]);
  });

  it('"weekdays at 18:30" → 30 18 * * 1-5, skipping the weekend', () => {
    recurring("weekdays at 18:30", "30 18 * * 1-5", [
      "2026-01-15T17:30:00.000Z",
      "2026-01-16T17:30:00.000Z",
      "2026-01-19T17:30:00.000Z",
    ]);
  });

  it('"every 2 hours" → 0 */2 * * * on even local hours', () => {
    recurring("every 2 hours", "0 */2 * * *", [
      "2026-01-15T11:00:00.000Z",
      "2026-01-15T13:00:00.000Z",
      "2026-01-15T15:00:00.000Z",
    ]);
  });

  it('"every monday at 10" → 0 10 * * 1', () => {
    recurring("every monday at 10", "0 10 * * 1", [
      "2026-01-19T09:00:00.000Z",
      "2026-01-26T09:00:00.000Z",
      "2026-02-02T09:00:00.000Z",
    ]);
  });

  it('"hourly" → 0 * * * *, strictly after now', () => {
    recurring("hourly", "0 * * * *", [
      "2026-01-15T11:00:00.000Z",
      "2026-01-15T12:00:00.000Z",
      "2026-01-15T13:00:00.000Z",
    ]);
  });

  it('"daily" → midnight local', () => {
    recurring("daily", "0 0 * * *", [
      "2026-01-15T23:00:00.000Z",
      "2026-01-16T23:00:00.000Z",
      "2026-01-17T23:00:00.000Z",
    ]);
  });

  it('"weekly on friday at 17:00" → 0 17 * * 5', () => {
    recurring("weekly on friday at 17:00", "0 17 * * 5", [
      "2026-01-16T16:00:00.000Z",
      "2026-01-23T16:00:00.000Z",
      "2026-01-30T16:00:00.000Z",
    ]);
  });

  it('"weekly" alone → Mondays at midnight', () => {
    expect(parsePhrase("weekly", now, tz).cron).toBe("0 0 * * 1");
  });

  it('"every day at noon" → 0 12 * * *, today since noon is still ahead', () => {
    recurring("every day at noon", "0 12 * * *", [
      "2026-01-15T11:00:00.000Z",
      "2026-01-16T11:00:00.000Z",
      "2026-01-17T11:00:00.000Z",
    ]);
  });

  it('"every 15 minutes" → */15 * * * *', () => {
    recurring("every 15 minutes", "*/15 * * * *", [
      "2026-01-15T10:15:00.000Z",
      "2026-01-15T10:30:00.000Z",
      "2026-01-15T10:45:00.000Z",
    ]);
  });

  it('"every weekday at 9:15pm" → 15 21 * * 1-5', () => {
    recurring("every weekday at 9:15pm", "15 21 * * 1-5", [
      "2026-01-15T20:15:00.000Z",
      "2026-01-16T20:15:00.000Z",
      "2026-01-19T20:15:00.000Z",
    ]);
  });

  it("reads several days and plural day names", () => {
    expect(parsePhrase("mondays and fridays at 9:30am", now, tz).cron).toBe("30 9 * * 1,5");
    expect(parsePhrase("every tue, thu and sat at 7", now, tz).cron).toBe("0 7 * * 2,4,6");
    expect(parsePhrase("on weekends at 10", now, tz).cron).toBe("0 10 * * 0,6");
  });

  it("reads monthly phrases", () => {
    recurring("monthly on the 15th at 8", "0 8 15 * *", [
      "2026-02-15T07:00:00.000Z",
      "2026-03-15T07:00:00.000Z",
      "2026-04-15T06:00:00.000Z", // CEST
    ]);
    expect(parsePhrase("monthly", now, tz).cron).toBe("0 0 1 * *");
  });

  it("reads every time-of-day form", () => {
    const cronOf = (time: string): string | undefined => parsePhrase(`daily at ${time}`, now, tz).cron;
    expect(cronOf("9")).toBe("0 9 * * *");
    expect(cronOf("9:30")).toBe("30 9 * * *");
    expect(cronOf("9:30pm")).toBe("30 21 * * *");
    expect(cronOf("9 PM")).toBe("0 21 * * *");
    expect(cronOf("18:30")).toBe("30 18 * * *");
    expect(cronOf("noon")).toBe("0 12 * * *");
    expect(cronOf("midnight")).toBe("0 0 * * *");
    expect(cronOf("12am")).toBe("0 0 * * *");
    expect(cronOf("12pm")).toBe("0 12 * * *");
  });

  it("maps interval edge cases to the plain cron", () => {
    expect(parsePhrase("every minute", now, tz).cron).toBe("* * * * *");
    expect(parsePhrase("every 1 hour", now, tz).cron).toBe("0 * * * *");
    expect(parsePhrase("every 60 minutes", now, tz).cron).toBe("0 * * * *");
    expect(parsePhrase("every 24 hours", now, tz).cron).toBe("0 0 * * *");
  });

  it("ignores case, extra spaces and a final full stop", () => {
    expect(parsePhrase("  Daily   AT 9AM. ", now, tz).cron).toBe("0 9 * * *");
  });

  it("accepts a cron expression as is and describes it", () => {
    const r = parsePhrase("0 9 * * 1-5", now, tz);
    expect(r.cron).toBe("0 9 * * 1-5");
    expect(r.description).toBe("At 09:00, Monday through Friday (Europe/Berlin)");
  });

  it("uses the compile options' minimum interval", () => {
    expect(() => parsePhrase("every 5 minutes", now, tz, { minIntervalMs: 600_000 })).toThrow(
      /fires every 5m, below the minimum interval of 10m/,
    );
  });
});

describe("parsePhrase: one-off", () => {
  it('"in 2 weeks" → now + 14 days', () => {
    oneOff("in 2 weeks", "2026-01-29T10:00:00.000Z");
  });

  it('"in 2 weeks" keeps the local time of day across a daylight-saving change', () => {
    // 2026-03-20 11:00 CET; Berlin moves to CEST on 2026-03-29; 11:00 CEST is 09:00Z.
    oneOff("in 2 weeks", "2026-04-03T09:00:00.000Z", tz, Date.parse("2026-03-20T10:00:00Z"));
  });

  it("reads minutes, hours, days and compact durations", () => {
    oneOff("in 30 minutes", "2026-01-15T10:30:00.000Z");
    oneOff("in an hour", "2026-01-15T11:00:00.000Z");
    oneOff("in 3 days", "2026-01-18T10:00:00.000Z");
    oneOff("in 1h30m", "2026-01-15T11:30:00.000Z");
  });

  it('"tomorrow at 9" → 09:00 local tomorrow', () => {
    oneOff("tomorrow at 9", "2026-01-16T08:00:00.000Z");
    oneOff("9am tomorrow", "2026-01-16T08:00:00.000Z");
  });

  it('"today at 17:00" → later today', () => {
    oneOff("today at 17:00", "2026-01-15T16:00:00.000Z");
  });

  it('"tomorrow at 2:30" on a spring-forward night fires after the gap', () => {
    // New York skips 02:00-03:00 on 2025-03-09; 02:30 becomes 03:30 EDT = 07:30Z.
    oneOff(
      "tomorrow at 2:30",
      "2025-03-09T07:30:00.000Z",
      "America/New_York",
      Date.parse("2025-03-08T17:00:00Z"),
    );
  });

  it('"at 2026-12-01 09:00" is local to the zone', () => {
    oneOff("at 2026-12-01 09:00", "2026-12-01T08:00:00.000Z");
    oneOff("at 2026-12-01 09:00", "2026-12-01T14:00:00.000Z", "America/New_York");
    oneOff("on 2026-12-01 at 9pm", "2026-12-01T20:00:00.000Z");
  });

  it("accepts an instant with an offset, whatever the zone", () => {
    oneOff("at 2026-12-01T09:00:00+01:00", "2026-12-01T08:00:00.000Z", "America/New_York");
  });

  it("describes the local time and zone", () => {
    expect(parsePhrase("tomorrow at 9", now, tz).description).toBe("once, 2026-01-16 09:00 (Europe/Berlin)");
  });
});

describe("parsePhrase: errors", () => {
  it("rejects an unknown phrase and lists example phrases", () => {
    const e = rejection("twice a fortnight");
    expect(e.message).toMatch(
      /^could not read "twice a fortnight" as a schedule; try one of: "daily at 9am", /,
    );
    expect(e.message).toContain('"in 2 weeks"');
    expect(e.message).toContain('"0 9 * * 1-5"');
    expect(e.input).toBe("twice a fortnight");
  });

  it("rejects intervals that do not divide the hour or the day, listing the ones that do", () => {
    expect(rejection("every 7 minutes").message).toMatch(
      /7 does not divide 60.*use every 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60 minutes/,
    );
    expect(rejection("every 5 hours").message).toMatch(
      /5 does not divide 24.*use every 1, 2, 3, 4, 6, 8, 12 or 24 hours/,
    );
  });

  it("rejects a bare weekday as ambiguous, suggesting both readings", () => {
    expect(rejection("monday at 10").message).toMatch(/say "every monday at 10" for a weekly schedule/);
  });

  it("rejects times and dates that do not exist", () => {
    expect(rejection("daily at 25:00").message).toMatch(/"25:00" in "daily at 25:00" is not a time of day/);
    expect(rejection("daily at 13pm").message).toMatch(/not a time of day/);
    expect(rejection("daily at 9:60").message).toMatch(/not a time of day/);
    expect(rejection("at 2026-02-30 09:00").message).toMatch(/2026-02-30 is not a date/);
    expect(rejection("monthly on the 32nd").message).toMatch(/day 32 is not a day of the month/);
  });

  it("rejects a one-off time already past", () => {
    expect(rejection("today at 9").message).toMatch(
      /is in the past.*now \(2026-01-15 11:00 Europe\/Berlin\)/,
    );
    expect(rejection("at 2025-01-01 09:00").message).toMatch(/is in the past/);
  });

  it("rejects an empty phrase, an unknown zone and a bad cron expression", () => {
    expect(rejection("   ").message).toMatch(/^the schedule phrase is empty; try one of/);
    expect(rejection("daily", "Nowhere/Land").message).toMatch(/unknown time zone "Nowhere\/Land"/);
    expect(rejection("0 25 * * *").message).toMatch(/invalid cron expression "0 25 \* \* \*"/);
  });
});
