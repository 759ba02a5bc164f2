import { isMap, isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError } from "./errors.ts";

/** A YAML text parsed with positions, so validation issues can point at a line. */
export interface PositionedYaml {
  doc: Document;
  value: unknown;
  /** Maps a field path to its 1-based line and column in the file. */
  locate(path: readonly PropertyKey[]): { line: number; column: number };
  /** YAML syntax errors, already located. */
  syntaxErrors: ConfigError[];
}

/**
 * Parses YAML keeping positions. `lineOffset` is the number of file lines before the YAML
 * text (the `---` line of a front-matter block), so reported lines match the file.
 */
export function parseYamlWithPositions(file: string, text: string, lineOffset = 0): PositionedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line + lineOffset, column: pos.col };
  };
  const locate = (path: readonly PropertyKey[]) => {
    // Walk down as far as the path exists; point at the key when the value is missing.
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n) as (string | number)[];
      const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
      if (isNode(node) && node.range) {
        if (n < path.length && isMap(node)) {
          const key = path[n];
          const pair = node.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === key);
          if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
        }
        return at(node.range[0]);
      }
    }
    return { line: 1 + lineOffset, column: 1 };
  };
  const syntaxErrors = doc.errors.map((e) => {
    const { line, column } = at(e.pos[0]);
    const hint = yamlHint(e.code, text.split("\n")[lineCounter.linePos(e.pos[0]).line - 1] ?? "", e.message);
    return new ConfigError(
      file,
      line,
      column,
      "",
      `YAML syntax error: ${e.message.split("\n")[0]}${hint ? `; ${hint}` : ""}`,
    );
  });
  return { doc, value: syntaxErrors.length ? undefined : doc.toJS(), locate, syntaxErrors };
}

/**
 * How to fix the YAML mistakes people make most in front-matter, from the parser's error
 * code and the line it points at; `undefined` when there is nothing more useful to say.
 * The commonest: an unquoted value containing `": "` (`description: Fix: the tests`), which
 * YAML reads as a nested key.
 */
export function yamlHint(code: string, lineText: string, message = ""): string | undefined {
  const field = /^\s*(?:-\s+)?([^\s:#'"][^:#]*?):\s+(.*?)\s*$/.exec(lineText);
  switch (code) {
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
    case "UNEXPECTED_TOKEN": {
      if (!field) return undefined;
      const [, key, value] = field as unknown as [string, string, string];
      if (!/: |:$|^- /.test(value)) return undefined;
      const what = value.startsWith("- ")
        ? 'starts with "- ", which YAML reads as a list'
        : 'contains ": ", which YAML reads as another key';
      return `the value of ${key} ${what}: put it in quotes (${key}: ${JSON.stringify(value)}) or write "${key}: |" and the text on the next lines, indented`;
    }
    case "TAB_AS_INDENT":
      return "replace the tab with spaces";
    case "MISSING_CHAR":
      return /quote/i.test(message)
        ? 'a quoted value must end with the same quote; for text over several lines write "key: |" and indent the lines'
        : undefined;
    case "BAD_SCALAR_START":
      return field
        ? `a value starting with ${JSON.stringify(field[2]!.charAt(0))} must be quoted (${field[1]}: ${JSON.stringify(field[2])})`
        : "a value starting with a reserved character (@ or `) must be quoted";
    case "DUPLICATE_KEY":
      return "each field may appear once: remove or merge the repeated one";
    default:
      return undefined;
  }
}

/** Turns zod issues into located {@link ConfigError}s. */
export function issuesToErrors(
  file: string,
  yaml: PositionedYaml,
  issues: readonly z.core.$ZodIssue[],
): ConfigError[] {
  return issues.map((issue) => {
    let path = issue.path as PropertyKey[];
    let detail = issue.message;
    if (issue.code === "unrecognized_keys") {
      path = [...path, issue.keys[0]!];
      detail = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling against docs/routines.md (routine files) or docs/config.md (config.yaml)`;
    } else if (issue.code === "invalid_value" && "values" in issue) {
      detail = `must be one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (issue.code === "invalid_type" && issue.input === undefined) {
      detail = `is required (${issue.message})`;
    }
    const { line, column } = yaml.locate(path);
    return new ConfigError(file, line, column, path.map(String).join("."), detail);
  });
}
