import { ConfigError } from "./errors.ts";
import type { PositionedYaml } from "./yaml-positions.ts";

/**
 * Largest routine prompt (the Markdown body of a routine file), in UTF-8 bytes: 512 KiB.
 * Prompts reach the agent through a file (its stdin, or `$NIGHTSHIFT_PROMPT_FILE`), so the
 * operating system sets no limit; the agents do: Codex refuses input over 1,048,576 characters
 * and Claude Code answers "Prompt is too long" past roughly that. The issue, a workflow's
 * sections, the run's text and the runner's instructions are added to the routine's prompt,
 * so half of that is left to the routine.
 */
export const MAX_PROMPT_BYTES = 512 * 1024;

/**
 * A located error for every line of a routine file that holds a NUL byte (U+0000): a routine
 * file is text, and NUL cannot be passed to a process in an argument or variable.
 *
 * @param shown - the file name used in messages.
 * @param lines - the file's lines (line 1 first).
 */
export function nulByteErrors(shown: string, lines: readonly string[]): ConfigError[] {
  const errors: ConfigError[] = [];
  lines.forEach((line, i) => {
    const at = line.indexOf("\0");
    if (at !== -1)
      errors.push(
        new ConfigError(
          shown,
          i + 1,
          at + 1,
          "",
          "contains a NUL byte (U+0000); a routine file must be text: remove it",
        ),
      );
  });
  return errors;
}

/**
 * A located error for every front-matter string (value or key) that holds a NUL character,
 * such as one written as the escape `"\0"` in a double-quoted YAML string.
 *
 * @param shown - the file name used in messages.
 * @param yaml - the parsed front-matter, with positions.
 */
export function nulStringErrors(shown: string, yaml: PositionedYaml): ConfigError[] {
  const errors: ConfigError[] = [];
  const visit = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") {
      if (value.includes("\0")) {
        const { line, column } = yaml.locate(path);
        errors.push(
          new ConfigError(
            shown,
            line,
            column,
            path.join("."),
            'contains a NUL character (U+0000, as the escape "\\0"): remove it',
          ),
        );
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, [...path, i]));
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes("\0")) visit(k, [...path, k]);
        else visit(v, [...path, k]);
      }
    }
  };
  visit(yaml.value, []);
  return errors;
}

/**
 * The error for a routine prompt over {@link MAX_PROMPT_BYTES}, or `undefined`.
 *
 * @param shown - the file name used in messages.
 * @param line - the 1-based line where the prompt starts.
 * @param prompt - the prompt as parsed.
 */
export function promptSizeError(shown: string, line: number, prompt: string): ConfigError | undefined {
  const bytes = Buffer.byteLength(prompt, "utf8");
  if (bytes <= MAX_PROMPT_BYTES) return undefined;
  return new ConfigError(
    shown,
    line,
    1,
    "prompt",
    `is ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes); a routine's prompt may be at most ${MAX_PROMPT_BYTES / 1024} KiB, because the agents refuse input over about 1 MiB and the issue and run text are added to it: move reference material into the repository and tell the agent to read it`,
  );
}
