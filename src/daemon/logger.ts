import pino from "pino";
import { prettyFactory } from "pino-pretty";
import { Redactor } from "../util/redact.ts";

/** A structured logger (pino, JSON lines on stderr). */
export type Logger = pino.Logger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written (default `NIGHTSHIFT_LOG_LEVEL`, else `info`). */
  level?: string;
  /** Secret values and token shapes to replace with `[REDACTED]`. */
  redactor?: Redactor;
  /** Where lines go (default stderr). */
  destination?: pino.DestinationStream;
  /**
   * Human-readable lines (pino-pretty: time, level, message and fields on one line) instead of
   * JSON lines. Default with a `destination`: JSON; otherwise `NIGHTSHIFT_LOG_FORMAT`
   * (`pretty` or `json`) when set, else pretty exactly when stderr is a terminal.
   */
  pretty?: boolean;
}

/** Whether the daemon's log is pretty by default: `NIGHTSHIFT_LOG_FORMAT`, else stderr is a TTY. */
export function prettyByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  const format = env.NIGHTSHIFT_LOG_FORMAT;
  if (format === "pretty") return true;
  if (format === "json") return false;
  return process.stderr.isTTY === true;
}

/**
 * The daemon's logger: one line per event on stderr — readable (pino-pretty, colours) on a
 * terminal, JSON lines otherwise (see {@link LoggerOptions.pretty}). Every message and field
 * passes through `redactor` (secret values and token shapes), and fields named like
 * credentials are censored by key as well.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const redactor = opts.redactor ?? new Redactor();
  const isPretty = opts.pretty ?? (opts.destination === undefined && prettyByDefault());
  const out = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const destination = isPretty
    ? prettyStream(out, opts.destination === undefined && process.stderr.isTTY)
    : out;
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
    destination,
  );
}

/**
 * Formats each JSON line with pino-pretty (time, level, message, then the fields on the same
 * line) and writes it to `out` synchronously, so the last lines before an exit are not lost.
 */
function prettyStream(out: pino.DestinationStream, colorize: boolean): pino.DestinationStream {
  const format = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss",
    ignore: "pid,hostname",
  });
  return { write: (line: string) => out.write(format(line)) };
}

/** Adapts a pino logger to the `log(level, msg, fields)` callbacks the lower layers take. */
export function logFn(logger: Logger) {
  return (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}) =>
    logger[level](fields, msg);
}
