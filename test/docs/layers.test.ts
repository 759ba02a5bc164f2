/**
 * docs/contributing.md says, for each folder under src/, which other folders it may import
 * ("May import: …"). This reads every relative import of every non-test source file and checks
 * that each folder imports only what its paragraph allows (src/project.ts, the composition
 * root, may be imported by any folder for its `Project` type), so the map stays true.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/project.ts";

const SRC = join(ROOT, "src");

/** Every .ts file under `dir`, test files aside. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The top-level part of src/ a path is in: its folder, or the file's name for src/<file>.ts. */
const partOf = (path: string): string => relative(SRC, path).split("/")[0]!.replace(/\.ts$/, "");

/** Folder → the other parts of src/ it imports (statically or with `import()`). */
function actualImports(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of sources(SRC)) {
    const from = partOf(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = normalize(join(dirname(file), m[1]!));
      if (!target.startsWith(SRC)) continue;
      const to = partOf(target);
      if (to === from) continue;
      if (!out.has(from)) out.set(from, new Set());
      out.get(from)!.add(to);
    }
  }
  return out;
}

/** Folder → what its paragraph in docs/contributing.md allows (`nothing` → none; cli → all). */
function documented(): Map<string, Set<string> | "any"> {
  const text = readFileSync(join(ROOT, "docs", "contributing.md"), "utf8");
  const out = new Map<string, Set<string> | "any">();
  for (const para of text.split(/\n\s*\n/)) {
    const folder = /^\*\*`([a-z]+)\/`\*\*/.exec(para.trim())?.[1];
    if (!folder) continue;
    if (/may import any folder/.test(para)) {
      out.set(folder, "any");
      continue;
    }
    const line = /May import:([\s\S]*?)(?:\.\s|\.$|$)/.exec(para.replace(/\n/g, " "))?.[1] ?? "";
    const allowed = new Set(
      [...line.matchAll(/\b([a-z]+)\b/g)].map((m) => m[1]!).filter((w) => w !== "and" && w !== "only"),
    );
    allowed.delete("nothing");
    out.set(folder, allowed);
  }
  return out;
}

describe("docs/contributing.md's map of the source folders", () => {
  const docs = documented();
  const actual = actualImports();

  it("has a paragraph for every folder under src/", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect([...docs.keys()].sort()).toEqual(folders);
  });

  it("lets each folder import only what its paragraph names (the composition root aside)", () => {
    const problems: string[] = [];
    for (const [folder, imports] of actual) {
      const allowed = docs.get(folder);
      if (allowed === "any" || folder === "project") continue;
      for (const to of imports) {
        if (to === "project") continue;
        if (!allowed?.has(to))
          problems.push(`src/${folder}/ imports src/${to}/, which its paragraph does not name`);
      }
    }
    expect(problems).toEqual([]);
  });
});
