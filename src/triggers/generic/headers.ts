/**
 * A header's value from a plain header record, whatever the case of its name (Node gives
 * lower-case names; other callers may not). Array values (repeated headers) give the first.
 *
 * @param headers - request headers.
 * @param name - the header name, any case.
 * @returns the value, or `undefined` when the header is absent.
 */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const lower = name.toLowerCase();
  let v = Object.hasOwn(headers, lower) ? headers[lower] : undefined;
  if (v === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
    v = key === undefined ? undefined : headers[key];
  }
  if (Array.isArray(v)) v = v[0];
  return typeof v === "string" ? v : undefined;
}
