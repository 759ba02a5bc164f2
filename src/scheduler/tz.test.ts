import { describe, expect, it } from "vitest";
import { formatLocal, offsetAt, resolveTimeZone, wallClock, wallToInstant } from "./tz.ts";

const wall = (iso: string): number => Date.parse(`${iso}Z`);

describe("time zone helpers", () => {
  it("reads offsets and wall clocks on both sides of a change", () => {
    expect(offsetAt(Date.parse("2025-01-15T12:00:00Z"), "America/New_York")).toBe(-5 * 3_600_000);
    expect(offsetAt(Date.parse("2025-07-15T12:00:00Z"), "America/New_York")).toBe(-4 * 3_600_000);
    expect(wallClock(Date.parse("2025-07-15T12:00:00.250Z"), "Asia/Kolkata")).toBe(
      wall("2025-07-15T17:30:00.250"),
    );
    expect(formatLocal(Date.parse("2025-07-15T12:00:00Z"), "Asia/Kolkata")).toBe("2025-07-15 17:30");
  });

  it("maps an ordinary wall time to its one instant", () => {
    expect(wallToInstant(wall("2025-07-15T09:00:00"), "Europe/Berlin")).toBe(
      Date.parse("2025-07-15T07:00:00Z"),
    );
  });

  it("maps a skipped wall time past the gap and a repeated one to its first occurrence", () => {
    expect(wallToInstant(wall("2025-03-09T02:30:00"), "America/New_York")).toBe(
      Date.parse("2025-03-09T07:30:00Z"),
    );
    expect(wallToInstant(wall("2025-11-02T01:30:00"), "America/New_York")).toBe(
      Date.parse("2025-11-02T05:30:00Z"),
    );
  });

  it("canonicalises known zones and rejects unknown or empty ones", () => {
    expect(resolveTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(() => resolveTimeZone("Europe/Atlantis")).toThrow(/unknown time zone "Europe\/Atlantis"/);
    expect(() => resolveTimeZone("")).toThrow(/unknown time zone ""/);
  });
});
