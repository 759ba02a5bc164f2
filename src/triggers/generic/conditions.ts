import { isDeepStrictEqual } from "node:util";
import type { WebhookCondition } from "./config-schema.ts";
import { lookupPath } from "./json-path.ts";

/** Whether a delivery's body satisfies a source's conditions, and if not, why. */
export type ConditionsMatch = { match: true } | { match: false; reason: string };

/** A value for a log line: JSON, cut to 80 characters. */
function show(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * Checks a generic webhook body against a source's `conditions`; all must hold.
 *
 * - `equals`: deep equality with the JSON value (`1` ≠ `"1"`; `null` matches only `null`).
 * - `in`: deep equality with one of the values.
 * - `matches`: a JavaScript regular expression (no flags; `(?i:…)` for case-insensitive
 *   parts) tested against a string, number or boolean value (numbers and booleans as text).
 * - `exists`: the path is present (`null` counts as present) or, with `false`, absent.
 *
 * A missing path fails every operator but `exists: false`. Paths follow {@link lookupPath}.
 *
 * @param conditions - the source's validated conditions; none or empty always match.
 * @param json - the parsed body.
 * @returns `{ match: true }`, or the first failing condition (1-based) and what was found.
 */
export function matchConditions(conditions: WebhookCondition[] | undefined, json: unknown): ConditionsMatch {
  for (const [i, c] of (conditions ?? []).entries()) {
    const at = lookupPath(json, c.path);
    const got = at.found ? `got ${show(at.value)}` : "path not found";
    const fail = (test: string): ConditionsMatch => ({
      match: false,
      reason: `condition ${i + 1} (${c.path} ${test}): ${got}`,
    });

    if (c.exists !== undefined) {
      if (at.found !== c.exists) return fail(`exists: ${c.exists}`);
    } else if (Object.hasOwn(c, "equals")) {
      if (!at.found || !isDeepStrictEqual(at.value, c.equals)) return fail(`equals ${show(c.equals)}`);
    } else if (c.in !== undefined) {
      if (!at.found || !c.in.some((v) => isDeepStrictEqual(at.value, v))) return fail(`in ${show(c.in)}`);
    } else if (c.matches !== undefined) {
      const v = at.found ? at.value : undefined;
      const text =
        typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
      if (text === undefined || !new RegExp(c.matches).test(text)) return fail(`matches /${c.matches}/`);
    }
  }
  return { match: true };
}
