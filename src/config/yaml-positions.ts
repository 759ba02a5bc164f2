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
    return new ConfigError(file, line, column, "", `YAML syntax error: ${e.message.split("\n")[0]}`);
  });
  return { doc, value: syntaxErrors.length ? undefined : doc.toJS(), locate, syntaxErrors };
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
      detail = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; check the spelling against the reference in README.md`;
    } else if (issue.code === "invalid_value" && "values" in issue) {
      detail = `must be one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (issue.code === "invalid_type" && issue.input === undefined) {
      detail = `is required (${issue.message})`;
    }
    const { line, column } = yaml.locate(path);
    return new ConfigError(file, line, column, path.map(String).join("."), detail);
  });
}
