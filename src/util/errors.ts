/**
 * A short tag for a wrapped error, for the one-line message of the error that wraps it: the
 * system error code when there is one (`ENOENT`, `EACCES`, `E2BIG`), else its message. The
 * wrapped error itself travels as the new error's `cause`, so logs keep the whole chain.
 */
export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && code) return code;
  return err instanceof Error ? err.message : String(err);
}

/**
 * An error and its `cause` chain as one text, outermost first, for a CLI's last word or a log
 * line: `could not start the agent "claude" (ENOENT) ← spawn claude ENOENT`. At most 5 levels.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const text = e instanceof Error ? e.message : String(e);
    if (!parts.includes(text)) parts.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" ← ");
}
