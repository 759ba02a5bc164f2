import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { ProjectConfigSchema } from "../../src/config/project-schema.ts";
import { RoutineFrontMatterSchema, TriggerSchema } from "../../src/config/routine-schema.ts";
import { WebhookSourceSchema } from "../../src/triggers/generic/config-schema.ts";
import { GithubTriggerSchema } from "../../src/triggers/github/filter.ts";

/**
 * The reference pages stay true to the code.
 *
 * Convention (docs/routines.md, docs/config.md): a *field table* is a Markdown table whose
 * header's first cell is `field`. Every row of a field table names exactly one field in its
 * first cell, as its full dotted path in backticks: `workflow.select.strategy`. A list
 * element is written `[]` (`triggers[].github.events`), a key you choose is written as a
 * placeholder in angle brackets (`environments.<name>.network`; any `<…>` matches any key).
 * Every field of the schema has a row, and every row is a field of the schema; intermediate
 * objects (`workflow.select`) have their own row.
 *
 * Also: every relative link in README.md and docs/*.md points to an existing file, and a
 * `#anchor` to a heading of that file.
 */

const ROOT = resolve(import.meta.dirname, "../..");

type Schema = z.ZodType;
type Def = { type: string } & Record<string, unknown>;
const defOf = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** A key you choose (a record's key): written `<name>`, `<source>`, … in the docs. */
const ANY_KEY = "<*>";

/**
 * Where walking the zod definitions cannot see fields, and what is there instead:
 * - `triggers[]`: TriggerSchema picks a trigger kind by its key in a transform, so its kinds
 *   are opaque; the GitHub kind is exported (walked), the others are probed below.
 * - `webhooks.<*>`: `webhooks:` keeps every source but `github` as unknown (catchall); the
 *   server validates each with WebhookSourceSchema.
 */
const TRIGGER_SAMPLES: Record<string, unknown>[] = [
  { schedule: "daily", at: "03:00", timezone: "Europe/Berlin" },
  { at: "2026-12-01T09:00:00Z" },
  { in: "2w" },
  { api: true },
  { webhook: { source: "sentry" } },
];

/** The dotted paths of a plain sample value (objects only; arrays and scalars are leaves). */
function samplePaths(value: unknown, prefix: string, out: Set<string>): void {
  if (!value || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.add(p);
    samplePaths(v, p, out);
  }
}

/**
 * Every field path of a zod schema: object keys joined with `.`, array elements as `[]`,
 * record (and catchall) keys as {@link ANY_KEY}, through optional, default, nullable, pipe,
 * union and the like. `overrides` supplies what is behind an opaque node.
 */
function fieldPaths(
  schema: Schema,
  overrides: Record<string, (prefix: string, out: Set<string>) => void> = {},
  reached: Set<string> = new Set(),
): Set<string> {
  const out = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (s: Schema, prefix: string): void => {
    if (prefix in overrides && !reached.has(prefix)) {
      reached.add(prefix);
      overrides[prefix]!(prefix, out);
    }
    if (seen.has(s)) return;
    seen.add(s);
    const def = defOf(s);
    const at = (key: string) => (prefix ? `${prefix}.${key}` : key);
    switch (def.type) {
      case "object": {
        for (const [key, child] of Object.entries(def.shape as Record<string, Schema>)) {
          out.add(at(key));
          walk(child, at(key));
        }
        const catchall = def.catchall as Schema | undefined;
        if (catchall && defOf(catchall).type !== "never") {
          out.add(at(ANY_KEY));
          walk(catchall, at(ANY_KEY));
        }
        break;
      }
      case "record":
        out.add(at(ANY_KEY));
        walk(def.valueType as Schema, at(ANY_KEY));
        break;
      case "array":
        walk(def.element as Schema, `${prefix}[]`);
        break;
      case "union":
        for (const option of def.options as Schema[]) walk(option, prefix);
        break;
      case "intersection":
        walk(def.left as Schema, prefix);
        walk(def.right as Schema, prefix);
        break;
      case "pipe":
        walk(def.in as Schema, prefix);
        walk(def.out as Schema, prefix);
        break;
      case "lazy":
        walk((def.getter as () => Schema)(), prefix);
        break;
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "nonoptional":
      case "readonly":
      case "catch":
        walk(def.innerType as Schema, prefix);
        break;
      default:
        break; // a leaf: string, number, enum, literal, boolean, unknown, transform, …
    }
    seen.delete(s);
  };
  walk(schema, "");
  return out;
}

const ROUTINE_OVERRIDES = {
  "triggers[]": (prefix: string, out: Set<string>) => {
    for (const p of fieldPaths(GithubTriggerSchema)) out.add(`${prefix}.${p}`);
    for (const sample of TRIGGER_SAMPLES) samplePaths(sample, prefix, out);
  },
};
const CONFIG_OVERRIDES = {
  [`webhooks.${ANY_KEY}`]: (prefix: string, out: Set<string>) => {
    for (const p of fieldPaths(WebhookSourceSchema)) out.add(`${prefix}.${p}`);
  },
};

/** Placeholders in angle brackets all mean "a key you choose". */
const normalize = (path: string) => path.replace(/<[^>]*>/g, ANY_KEY);

interface FieldRow {
  path: string;
  line: number;
}

/** The field tables' rows of a Markdown page (see the convention above), outside code blocks. */
function documentedFields(file: string): { rows: FieldRow[]; problems: string[] } {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const rows: FieldRow[] = [];
  const problems: string[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*(```|~~~)/.test(lines[i]!)) fenced = !fenced;
    if (fenced || !lines[i]!.startsWith("|")) continue;
    const header = cells(lines[i]!);
    const start = i;
    while (i + 1 < lines.length && lines[i + 1]!.startsWith("|")) i++;
    if (header[0] !== "field") continue;
    for (let j = start + 2; j <= i; j++) {
      const first = cells(lines[j]!)[0] ?? "";
      const m = /^`([^`\s]+)`$/.exec(first);
      if (m) rows.push({ path: m[1]!, line: j + 1 });
      else
        problems.push(`${file}:${j + 1}: the first cell must be one field path in backticks, got ${first}`);
    }
  }
  return { rows, problems };
}

/** The cells of a table row (an escaped `\|` stays inside its cell). */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

function compare(file: string, schemaPaths: Set<string>) {
  const { rows, problems } = documentedFields(file);
  const documented = new Map<string, FieldRow>();
  for (const row of rows) {
    const key = normalize(row.path);
    if (documented.has(key))
      problems.push(
        `${file}:${row.line}: \`${row.path}\` is documented twice (also line ${documented.get(key)!.line})`,
      );
    documented.set(key, row);
  }
  const undocumented = [...schemaPaths].filter((p) => !documented.has(p)).sort();
  const unknown = rows
    .filter((r) => !schemaPaths.has(normalize(r.path)))
    .map((r) => `${file}:${r.line}: \`${r.path}\` is not a field of the schema`);
  return { rows, problems, undocumented, unknown };
}

describe("reference pages list exactly the schemas' fields", () => {
  it("TriggerSchema accepts each probed trigger kind, strictly", () => {
    for (const sample of TRIGGER_SAMPLES) {
      expect(TriggerSchema.safeParse(sample).success, JSON.stringify(sample)).toBe(true);
      expect(TriggerSchema.safeParse({ ...sample, no_such_field: 1 }).success, JSON.stringify(sample)).toBe(
        false,
      );
    }
    expect(TriggerSchema.safeParse({ webhook: { source: "sentry", no_such_field: 1 } }).success).toBe(false);
  });

  it("docs/routines.md documents every routine field (RoutineFrontMatterSchema) and no other", () => {
    const reached = new Set<string>();
    const paths = fieldPaths(RoutineFrontMatterSchema, ROUTINE_OVERRIDES, reached);
    expect([...reached]).toEqual(Object.keys(ROUTINE_OVERRIDES));
    for (const p of ["workflow.select.strategy", "workflow.guard.dry_run", "triggers[].github.filters.title"])
      expect(paths).toContain(p);
    const r = compare("docs/routines.md", paths);
    expect(r.problems).toEqual([]);
    expect(r.undocumented, "fields without a row in docs/routines.md").toEqual([]);
    expect(r.unknown).toEqual([]);
  });

  it("docs/config.md documents every config.yaml field (ProjectConfigSchema) and no other", () => {
    const reached = new Set<string>();
    const paths = fieldPaths(ProjectConfigSchema, CONFIG_OVERRIDES, reached);
    expect([...reached]).toEqual(Object.keys(CONFIG_OVERRIDES));
    for (const p of ["deque.allowed_authors", "environments.<*>.network", "forge.app.installation_id"])
      expect(paths).toContain(p);
    const r = compare("docs/config.md", paths);
    expect(r.problems).toEqual([]);
    expect(r.undocumented, "fields without a row in docs/config.md").toEqual([]);
    expect(r.unknown).toEqual([]);
  });
});

/** The Markdown pages whose links are checked. */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

/** GitHub's anchors for the headings of a Markdown file (github-slugger's rule, simplified). */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/[`*]/g, "")
      .toLowerCase();
    const slug = text.replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "").replace(/ /g, "-");
    const n = counts.get(slug) ?? 0;
    counts.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Relative links `[text](target)` of a Markdown file, outside code blocks and code spans. */
function links(file: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      if (fenced) return;
      const text = line.replace(/`[^`]*`/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        out.push({ target, line: i + 1 });
      }
    });
  return out;
}

describe("links in README.md and docs/", () => {
  it("every relative link points to an existing file and heading", () => {
    const broken: string[] = [];
    for (const page of pages()) {
      const file = join(ROOT, page);
      for (const { target, line } of links(file)) {
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const dest = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
        const where = `${page}:${line}: ${target}`;
        if (!dest.startsWith(ROOT)) broken.push(`${where} leaves the repository`);
        else if (!existsSync(dest)) broken.push(`${where}: no file ${relative(ROOT, dest)}`);
        else if (anchor && dest.endsWith(".md") && statSync(dest).isFile() && !anchors(dest).has(anchor))
          broken.push(`${where}: no heading #${anchor} in ${relative(ROOT, dest)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("the README links every docs page", () => {
    const readmeLinks = new Set(links(join(ROOT, "README.md")).map((l) => l.target.split("#")[0]));
    const missing = pages()
      .filter((p) => p !== "README.md")
      .filter((p) => !readmeLinks.has(p));
    expect(missing).toEqual([]);
  });
});
