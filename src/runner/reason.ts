import { Redactor } from "../util/redact.ts";

/**
 * Longest stored session reason, in characters (the last redaction pass may add a few: a
 * cut token becomes `[REDACTED]`).
 */
export const MAX_REASON_CHARS = 1_000;
/** Room for the ` … [N characters cut] … ` marker of a cut reason. */
const MARKER_CHARS = 40;
/** Of a cut reason: how much of its start is kept (the cause); the rest is its end (the last error). */
const HEAD_CHARS = 660;

/** Line breaks with the blanks around them, and every other control character. */
const LINE_BREAKS = /[ \t]*(?:\r\n|[\r\n\u2028\u2029])[\s]*/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/**
 * The reason stored for a session (`sessions.reason`, shown by `sessions list`, `sessions
 * show` and the API): one line, at most about {@link MAX_REASON_CHARS} characters, with no
 * secret in it.
 *
 * 1. The whole text is redacted first, so no secret can be cut in two by step 3;
 * 2. line breaks become ` | ` and other control characters (NUL, ESC, …) a space;
 * 3. a longer text keeps its start and its end around `… [N characters cut] …`;
 * 4. the result is redacted again with {@link Redactor.redactPartial}, which also catches a
 *    secret the input itself held cut short (a `ghp_…` prefix, the start or end of a known
 *    value).
 *
 * @param text - the reason as produced (may be multi-line, huge, hold secrets).
 * @param redactor - the session's redactor (its secret values); default: token shapes only.
 */
export function formatReason(text: string, redactor: Redactor = new Redactor()): string {
  let out = redactor.redact(text);
  out = out.trim().replace(LINE_BREAKS, " | ").replace(CONTROL, " ");
  if (out.length > MAX_REASON_CHARS) {
    const head = out.slice(0, cutAt(out, HEAD_CHARS));
    const tail = out.slice(cutAt(out, out.length - (MAX_REASON_CHARS - MARKER_CHARS - HEAD_CHARS)));
    out = `${head} … [${out.length - head.length - tail.length} characters cut] … ${tail}`;
  }
  return redactor.redactPartial(out);
}

/** `at`, moved back one when it would split a surrogate pair. */
function cutAt(text: string, at: number): number {
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/**
 * The reason for a session that failed with an unexpected error: `internal error: <message>`
 * (made one line by {@link formatReason} when stored). The stack trace never goes
 * into the reason: it is written, redacted, to `log` (default: the process's stderr, which is
 * the daemon's log), tagged with the session id.
 *
 * @param err - what was thrown (an `Error` or anything else).
 * @param sessionId - for the log line.
 * @param redactor - the session's redactor, applied to the logged stack.
 */
export function internalErrorReason(
  err: unknown,
  sessionId: string,
  redactor: Redactor = new Redactor(),
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): string {
  const message = err instanceof Error ? err.message : String(err);
  const detail = err instanceof Error && err.stack ? err.stack : message;
  log(redactor.redact(`nightshift: session ${sessionId} failed with an internal error: ${detail}`));
  return `internal error: ${message || (err instanceof Error ? err.name : "unknown")}`;
}
