import pino from "pino";

/** A structured logger (pino, JSON lines on stderr). */
export type Logger = pino.Logger;

/**
 * The daemon's logger: JSON lines on stderr. Fields that could carry secrets (authorization
 * headers, tokens) are redacted by key name.
 */
export function createLogger(level = process.env.NIGHTSHIFT_LOG_LEVEL ?? "info"): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: ["authorization", "token", "secret", "*.authorization", "*.token", "*.secret"],
        censor: "[redacted]",
      },
    },
    pino.destination(2),
  );
}

/** Adapts a pino logger to the `log(level, msg, fields)` callbacks the lower layers take. */
export function logFn(logger: Logger) {
  return (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}) =>
    logger[level](fields, msg);
}
