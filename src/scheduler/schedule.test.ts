import { describe, expect, it } from "vitest";
import { ScheduleError } from "./errors.ts";
import { compileSchedule, presetToCron, slotKey } from "./schedule.ts";

const at = (iso: string): number => Date.parse(iso);
const isos = (ts: number[]): string[] => ts.map((t) => new Date(t).toISOString());

function rejection(fn: () => unknown): ScheduleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScheduleError) return err;
    throw err;
  }
  throw new Error("expected a ScheduleError");
}

describe("presetToCron", () => {
  it("expands each preset at midnight (or on the hour) when no time is given", () => {
    expect(presetToCron("hourly")).toBe("0 * * * *");
    expect(presetToCron("daily")).toBe("0 0 * * *");
    expect(presetToCron("weekdays")).toBe("0 0 * * 1-5");
    expect(presetToCron("weekly")).toBe("0 0 * * 1");
  });

  it("puts the time of day from `at` into minute and hour fields", () => {
    expect(presetToCron("daily", "09:30")).toBe("30 9 * * *");
    expect(presetToCron("weekdays", "18:05")).toBe("5 18 * * 1-5");
    expect(presetToCron("weekly", "7:00")).toBe("0 7 * * 1");
  });

  it("uses only the minutes of `at` for hourly, also written as :MM", () => {
    expect(presetToCron("hourly", "09:15")).toBe("15 * * * *");
    expect(presetToCron("hourly", ":45")).toBe("45 * * * *");
  });

  it("rejects a malformed time and an unknown preset with a fix", () => {
    expect(rejection(() => presetToCron("daily", "24:00")).message).toMatch(/"HH:MM".*got "24:00"/);
    expect(rejection(() => presetToCron("daily", ":30")).message).toMatch(/"HH:MM"/);
    expect(rejection(() => presetToCron("daily", "9am")).message).toMatch(/got "9am"/);
    expect(rejection(() => presetToCron("monthly" as never)).message).toMatch(
      /unknown schedule preset "monthly"; use one of hourly, daily, weekdays, weekly/,
    );
  });
});

describe("compileSchedule", () => {
  it("expands a preset, reads it in the given zone and describes it in English", () => {
    const s = compileSchedule({ schedule: "weekdays", at: "09:00", timezone: "Europe/Berlin" });
    expect(s.cron).toBe("0 9 * * 1-5");
    expect(s.timezone).toBe("Europe/Berlin");
    expect(s.description).toBe("At 09:00, Monday through Friday (Europe/Berlin)");
    // Friday 2026-01-16 10:00Z → Monday 09:00 CET = 08:00Z
    expect(isos([s.nextAfter(at("2026-01-16T10:00:00Z"))!])).toEqual(["2026-01-19T08:00:00.000Z"]);
  });

  it("defaults to UTC and canonicalises the zone name", () => {
    expect(compileSchedule({ schedule: "0 9 * * *" }).timezone).toBe("UTC");
    expect(compileSchedule({ schedule: "0 9 * * *", timezone: "utc" }).timezone).toBe("UTC");
    expect(compileSchedule({ schedule: "  0   9 * *  * " }).cron).toBe("0 9 * * *");
  });

  it("returns the first fire strictly after t, never t itself", () => {
    const s = compileSchedule({ schedule: "0 9 * * *" });
    expect(s.nextAfter(at("2026-01-15T08:59:59.999Z"))).toBe(at("2026-01-15T09:00:00Z"));
    expect(s.nextAfter(at("2026-01-15T09:00:00Z"))).toBe(at("2026-01-16T09:00:00Z"));
    expect(s.nextAfter(at("2026-01-15T09:00:00.500Z"))).toBe(at("2026-01-16T09:00:00Z"));
  });

  it("lists the slots in (from, to], ascending, up to a limit", () => {
    const s = compileSchedule({ schedule: "0 * * * *" });
    const from = at("2026-01-15T01:00:00Z");
    const to = at("2026-01-15T04:00:00Z");
    expect(isos(s.slotsBetween(from, to))).toEqual([
      "2026-01-15T02:00:00.000Z",
      "2026-01-15T03:00:00.000Z",
      "2026-01-15T04:00:00.000Z",
    ]);
    expect(isos(s.slotsBetween(from, to, 2))).toEqual([
      "2026-01-15T02:00:00.000Z",
      "2026-01-15T03:00:00.000Z",
    ]);
    expect(s.slotsBetween(to, from)).toEqual([]);
  });

  describe("daylight-saving time", () => {
    it("fires a time skipped by spring forward once, shifted past the gap (02:30 New York → 07:30Z)", () => {
      const s = compileSchedule({ schedule: "30 2 * * *", timezone: "America/New_York" });
      expect(isos(s.slotsBetween(at("2025-03-08T00:00:00Z"), at("2025-03-11T00:00:00Z")))).toEqual([
        "2025-03-08T07:30:00.000Z", // 02:30 EST
        "2025-03-09T07:30:00.000Z", // 02:30 does not exist: 03:30 EDT
        "2025-03-10T06:30:00.000Z", // 02:30 EDT
      ]);
      // Asked from inside the gap's shift, the shifted slot is still next.
      expect(s.nextAfter(at("2025-03-09T07:10:00Z"))).toBe(at("2025-03-09T07:30:00Z"));
    });

    it("fires a time repeated by fall back once, at its first occurrence (01:30 New York → 05:30Z)", () => {
      const s = compileSchedule({ schedule: "30 1 * * *", timezone: "America/New_York" });
      expect(isos(s.slotsBetween(at("2025-11-01T00:00:00Z"), at("2025-11-04T00:00:00Z")))).toEqual([
        "2025-11-01T05:30:00.000Z",
        "2025-11-02T05:30:00.000Z", // 01:30 EDT; 01:30 EST (06:30Z) does not fire
        "2025-11-03T06:30:00.000Z",
      ]);
      expect(s.nextAfter(at("2025-11-02T06:00:00Z"))).toBe(at("2025-11-03T06:30:00Z"));
    });

    it("shifts skipped times in Europe and in half-hour zones too", () => {
      const berlin = compileSchedule({ schedule: "30 2 * * *", timezone: "Europe/Berlin" });
      expect(berlin.nextAfter(at("2025-03-29T12:00:00Z"))).toBe(at("2025-03-30T01:30:00Z")); // 03:30 CEST
      // Lord Howe springs forward 30 minutes, 02:00 → 02:30 (+10:30 → +11).
      const lordHowe = compileSchedule({ schedule: "15 2 * * *", timezone: "Australia/Lord_Howe" });
      expect(lordHowe.nextAfter(at("2025-10-04T00:00:00Z"))).toBe(at("2025-10-04T15:45:00Z")); // 02:45 +11
    });

    it("fires each listed time at most once when several fall in one gap", () => {
      const s = compileSchedule({ schedule: "0,30 2,3 * * *", timezone: "America/New_York" });
      // 02:00 → 03:00 EDT and 02:30 → 03:30 EDT coincide with the real 03:00 and 03:30.
      expect(isos(s.slotsBetween(at("2025-03-09T00:00:00Z"), at("2025-03-10T00:00:00Z")))).toEqual([
        "2025-03-09T07:00:00.000Z",
        "2025-03-09T07:30:00.000Z",
      ]);
    });

    it("runs interval schedules in real time: hourly keeps firing hourly through the repeated hour", () => {
      const s = compileSchedule({ schedule: "0 * * * *", timezone: "America/New_York" });
      expect(isos(s.slotsBetween(at("2025-11-02T03:30:00Z"), at("2025-11-02T08:30:00Z")))).toEqual([
        "2025-11-02T04:00:00.000Z", // 00:00 EDT
        "2025-11-02T05:00:00.000Z", // 01:00 EDT
        "2025-11-02T06:00:00.000Z", // 01:00 EST
        "2025-11-02T07:00:00.000Z", // 02:00 EST
        "2025-11-02T08:00:00.000Z",
      ]);
    });

    it("runs interval schedules in real time: a skipped half hour does not fire", () => {
      const s = compileSchedule({ schedule: "30 * * * *", timezone: "America/New_York" });
      expect(isos(s.slotsBetween(at("2025-03-09T06:00:00Z"), at("2025-03-09T08:00:00Z")))).toEqual([
        "2025-03-09T06:30:00.000Z", // 01:30 EST
        "2025-03-09T07:30:00.000Z", // 03:30 EDT; 02:30 does not exist
      ]);
    });
  });

  describe("errors", () => {
    it("rejects an invalid cron field and says what the fields are", () => {
      const e = rejection(() => compileSchedule({ schedule: "61 * * * *" }));
      expect(e.message).toMatch(/^invalid cron expression "61 \* \* \* \*": .*minute.*61/);
      expect(e.message).toMatch(/minute \(0-59\), hour \(0-23\)/);
      expect(e.input).toBe("61 * * * *");
    });

    it("rejects a wrong number of fields (croner's 6-field seconds form included)", () => {
      expect(rejection(() => compileSchedule({ schedule: "0 9 * *" })).message).toMatch(
        /has 4 fields; use 5 fields/,
      );
      expect(rejection(() => compileSchedule({ schedule: "0 0 9 * * *" })).message).toMatch(/has 6 fields/);
      expect(rejection(() => compileSchedule({ schedule: "" })).message).toMatch(/has 0 fields/);
    });

    it("rejects an unknown time zone with examples of valid ones", () => {
      const e = rejection(() => compileSchedule({ schedule: "daily", timezone: "Mars/Olympus" }));
      expect(e.message).toBe(
        'unknown time zone "Mars/Olympus"; use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York"',
      );
    });

    it("rejects `at` on a cron expression", () => {
      expect(rejection(() => compileSchedule({ schedule: "0 9 * * *", at: "10:00" })).message).toMatch(
        /"at" only applies to the presets .*put the time in the cron expression/,
      );
    });

    it("rejects a schedule that never fires", () => {
      expect(rejection(() => compileSchedule({ schedule: "0 0 30 2 *" })).message).toMatch(
        /"0 0 30 2 \*" never fires/,
      );
    });

    it("rejects a schedule more frequent than the minimum interval, naming both", () => {
      const e = rejection(() => compileSchedule({ schedule: "* * * * *" }, { minIntervalMs: 300_000 }));
      expect(e.message).toBe(
        '"* * * * *" fires every 1m, below the minimum interval of 5m; use a coarser schedule or lower scheduler.min_interval',
      );
    });

    it("finds a burst of frequent fires inside an otherwise sparse schedule", () => {
      expect(
        rejection(() => compileSchedule({ schedule: "* 9 * * 1" }, { minIntervalMs: 120_000 })).message,
      ).toMatch(/fires every 1m, below the minimum interval of 2m/);
      expect(
        rejection(() => compileSchedule({ schedule: "0,10 9 * * *" }, { minIntervalMs: 3_600_000 })).message,
      ).toMatch(/fires every 10m, below the minimum interval of 1h/);
    });

    it("names the preset and its cron when a preset is too frequent", () => {
      expect(
        rejection(() => compileSchedule({ schedule: "hourly" }, { minIntervalMs: 7_200_000 })).message,
      ).toBe(
        'hourly ("0 * * * *") fires every 1h, below the minimum interval of 2h; use a coarser schedule or lower scheduler.min_interval',
      );
    });

    it("accepts a schedule exactly at the minimum interval, and every minute by default", () => {
      expect(compileSchedule({ schedule: "*/5 * * * *" }, { minIntervalMs: 300_000 }).cron).toBe(
        "*/5 * * * *",
      );
      expect(compileSchedule({ schedule: "* * * * *" }).cron).toBe("* * * * *");
    });
  });
});

describe("slotKey", () => {
  it("is the slot's ISO instant in UTC", () => {
    expect(slotKey(at("2025-03-09T07:30:00Z"))).toBe("2025-03-09T07:30:00.000Z");
    expect(() => slotKey(Number.NaN)).toThrow(RangeError);
  });
});
