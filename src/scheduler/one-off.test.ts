import { describe, expect, it } from "vitest";
import { ScheduleError } from "./errors.ts";
import { oneOffTime, parseInstant } from "./one-off.ts";

const created = Date.parse("2026-01-15T10:00:00Z");

describe("oneOffTime", () => {
  it("reads an `at` instant in UTC or with an offset", () => {
    expect(oneOffTime({ at: "2026-12-01T08:00:00Z" }, created)).toBe(Date.UTC(2026, 11, 1, 8));
    expect(oneOffTime({ at: "2026-12-01T09:00+01:00" }, created)).toBe(Date.UTC(2026, 11, 1, 8));
    expect(oneOffTime({ at: "2026-12-01T03:30:15.250-05:00" }, created)).toBe(
      Date.UTC(2026, 11, 1, 8, 30, 15, 250),
    );
  });

  it("adds an `in` duration to the creation time", () => {
    expect(oneOffTime({ in: "2h" }, created)).toBe(created + 2 * 3_600_000);
    expect(oneOffTime({ in: "1h30m" }, created)).toBe(created + 90 * 60_000);
    expect(oneOffTime({ in: "2w" }, created)).toBe(created + 14 * 86_400_000);
  });

  it("returns a time already past as is", () => {
    expect(oneOffTime({ at: "2020-01-01T00:00:00Z" }, created)).toBe(Date.UTC(2020, 0, 1));
  });

  it("rejects an instant without an offset, since its zone would be a guess", () => {
    expect(() => oneOffTime({ at: "2026-12-01T09:00:00" }, created)).toThrow(
      /"2026-12-01T09:00:00" is not an instant with a time zone offset; write an ISO 8601 instant/,
    );
  });

  it("rejects a date that does not exist instead of rolling it over", () => {
    expect(() => oneOffTime({ at: "2026-02-30T09:00:00Z" }, created)).toThrow(/has no day 30 in 2026-02/);
    expect(() => parseInstant("2026-02-28T24:00:00Z")).toThrow(/out of range/);
  });

  it("rejects a duration without a unit or that is not a duration", () => {
    expect(() => oneOffTime({ in: "90" }, created)).toThrow(/"in" must be a duration with a unit.*got "90"/);
    expect(() => oneOffTime({ in: "soon" }, created)).toThrow(ScheduleError);
    expect(() => oneOffTime({ in: "-2h" }, created)).toThrow(ScheduleError);
  });

  it("rejects a spec with both or neither of `at` and `in`", () => {
    expect(() => oneOffTime({ at: "2026-12-01T08:00:00Z", in: "2h" } as never, created)).toThrow(
      /exactly one of/,
    );
    expect(() => oneOffTime({} as never, created)).toThrow(/exactly one of/);
  });
});
