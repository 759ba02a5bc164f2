import { z } from "zod";

const UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration such as `90s`, `30m`, `1h30m`, `7d` or `500ms` into milliseconds.
 * A bare number is taken as seconds (the unit of `timeout` in Claude Code's settings).
 *
 * @returns the duration in ms, or `undefined` when the text is not a duration.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.replace(/\s+/g, "")) return undefined;
  const total = parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS_MS[p[2]!] ?? 0), 0);
  return total > 0 ? total : undefined;
}

/** Formats ms as a short human duration (`1.2s`, `3m 05s`, `2h 10m`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * The one zod schema for a duration field in routines and `config.yaml`: a string such as
 * `90s`, `30m`, `1h30m`, `7d` (see {@link parseDuration}) or a bare number of seconds, read
 * into **milliseconds**. With `zero`, `0` is also accepted (and read as 0 ms) and the error
 * message says what 0 means (e.g. `"to turn rotation off"`).
 *
 * The message names no field: the config loader prefixes the field's path and its file:line.
 */
export function durationSchema(opts: { zero?: string } = {}) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    if (opts.zero !== undefined && (value === 0 || value === "0")) return 0;
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `must be a duration such as "90s", "30m", "2h" or "7d" (a bare number is seconds)${opts.zero !== undefined ? `, or 0 ${opts.zero}` : ""}; got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
