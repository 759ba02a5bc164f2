import type { Routine } from "../config/routine-schema.ts";
import { formatLocal, resolveTimeZone } from "../scheduler/tz.ts";
import { isoTime } from "./format.ts";

/**
 * An instant in a time zone next to UTC: `2026-12-01 09:00 Europe/Berlin (2026-12-01T08:00:00Z)`;
 * just the UTC time when the zone is UTC (or unknown) or there is no instant.
 */
export function zonedTime(ms: number | null | undefined, timeZone: string | undefined): string {
  if (ms === null || ms === undefined) return isoTime(ms);
  let zone: string;
  try {
    zone = resolveTimeZone(timeZone ?? "UTC");
  } catch {
    return isoTime(ms);
  }
  if (zone === "UTC" || zone === "Etc/UTC") return isoTime(ms);
  return `${formatLocal(ms, zone)} ${zone} (${isoTime(ms)})`;
}

/** The zone a routine's times are shown in: its first schedule trigger's, else UTC. */
export function routineTimeZone(r: Routine): string {
  for (const t of r.triggers) if ("schedule" in t && t.timezone) return t.timezone;
  return "UTC";
}
