/** The result of looking a dotted path up: `found` is false when any step is missing. */
export type PathLookup = { found: true; value: unknown } | { found: false };

/**
 * Follows a dotted path (`"data.issue.level"`, `"data.tags.0"`) through parsed JSON. Object
 * steps read own properties only (so `"__proto__"` or `"constructor"` find nothing); a
 * numeric step indexes an array. Keys that themselves contain dots cannot be addressed.
 *
 * @param json - the parsed body (any JSON value).
 * @param path - property names or array indexes separated by dots.
 */
export function lookupPath(json: unknown, path: string): PathLookup {
  let cur = json;
  for (const key of path.split(".")) {
    if (Array.isArray(cur)) {
      if (!/^(?:0|[1-9]\d*)$/.test(key) || Number(key) >= cur.length) return { found: false };
      cur = cur[Number(key)];
    } else if (typeof cur === "object" && cur !== null && Object.hasOwn(cur, key)) {
      cur = (cur as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}
