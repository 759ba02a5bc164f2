import pino from "pino";
import { Redactor } from "../util/redact.ts";

/** A structured logger (pino, JSON lines on stderr). */
export type Logger = pino.Logger;

/**
 * The daemon's logger: JSON lines on stderr. Every message and field passes through
 * `redactor` (secret values and token shapes), and fields named like credentials are censored
 * by key as well.
 */
export function createLogger(
  opts: { level?: string; redactor?: Redactor; destination?: pino.DestinationStream } = {},
): Logger {
  const redactor = opts.redactor ?? new Redactor();
  return pino(
    {
      level: opts.level ?? process.env.NIGHTSHIFT_LOG_LEVEL ?? "info",
      base: { pid: process.pid },
      redact: {
        paths: ["authorization", "token", "secret", "*.authorization", "*.token", "*.secret"],
        censor: "[REDACTED]",
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, redactor.redactDeep(args) as Parameters<typeof method>);
        },
      },
    },
    opts.destination ?? pino.destination(2),
  );
}

/** Adapts a pino logger to the `log(level, msg, fields)` callbacks the lower layers take. */
export function logFn(logger: Logger) {
  return (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}) =>
    logger[level](fields, msg);
}
