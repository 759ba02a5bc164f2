/**
 * A problem in a routine file or `.nightshift/config.yaml`, located precisely enough to fix.
 *
 * `message` reads `<file>:<line>:<column>: <field>: <what is wrong>`; `line` and `column`
 * are 1-based and point at the offending value (or at its parent when the field is missing).
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path of the field, such as `triggers.0.schedule`; empty for file-level problems. */
  readonly field: string;
  readonly detail: string;

  constructor(file: string, line: number, column: number, field: string, detail: string) {
    super(`${file}:${line}:${column}: ${field ? `${field}: ` : ""}${detail}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.field = field;
    this.detail = detail;
  }
}

/** Several {@link ConfigError}s from one file, reported together. */
export class ConfigErrors extends Error {
  override name = "ConfigErrors";
  readonly errors: ConfigError[];

  constructor(errors: ConfigError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.errors = errors;
  }
}

/** `nightshift run <name>` (or similar) named a routine that has no file. */
export class RoutineNotFoundError extends Error {
  override name = "RoutineNotFoundError";
}
