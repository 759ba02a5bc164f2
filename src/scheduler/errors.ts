/**
 * A schedule, time zone, one-off time or schedule phrase that nightshift cannot use.
 *
 * `message` says what is wrong and how to fix it; `input` is the offending text, so a caller
 * (the config loader, the CLI) can add where it came from (file, line, flag).
 */
export class ScheduleError extends Error {
  override name = "ScheduleError";
  /** The text that was rejected: a cron expression, preset, time zone, instant, duration or phrase. */
  readonly input: string;

  constructor(message: string, input: string) {
    super(message);
    this.input = input;
  }
}
