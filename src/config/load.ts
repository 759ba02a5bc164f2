import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ConfigError, ConfigErrors, RoutineNotFoundError } from "./errors.ts";
import { secretsFileWarnings, stateDirProblem } from "./project-checks.ts";
import { nulByteErrors, nulStringErrors, promptSizeError } from "./text-checks.ts";
import { type ProjectConfig, ProjectConfigSchema } from "./project-schema.ts";
import {
  ROUTINE_NAME_RE,
  ROUTINE_NAME_RULE,
  type Routine,
  RoutineFrontMatterSchema,
} from "./routine-schema.ts";
import { issuesToErrors, parseYamlWithPositions } from "./yaml-positions.ts";

/** Name of the folder that marks a nightshift project. */
export const PROJECT_DIR = ".nightshift";

/**
 * Finds the project root: the nearest folder, from `start` upwards, that holds `.nightshift/`.
 * @returns the absolute root, or `undefined` when there is none.
 */
export function findProjectRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, PROJECT_DIR)) && statSync(join(dir, PROJECT_DIR)).isDirectory()) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Parses a routine file: YAML front-matter between `---` lines, then the prompt as Markdown.
 *
 * @param file - path used in error messages and to default the routine name.
 * @throws {ConfigErrors} listing every problem with its file, line, column and field.
 */
export function parseRoutine(file: string, text: string): Routine {
  const shown = relative(process.cwd(), file) || file;
  const lines = text.split(/\r?\n/);
  const nulBytes = nulByteErrors(shown, lines);
  if (nulBytes.length) throw new ConfigErrors(nulBytes);
  if (lines[0]?.trim() !== "---") {
    throw new ConfigErrors([
      new ConfigError(
        shown,
        1,
        1,
        "",
        'a routine file starts with a "---" line, then YAML front-matter, then "---" and the prompt',
      ),
    ]);
  }
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
  if (end === -1) {
    throw new ConfigErrors([
      new ConfigError(shown, 1, 1, "", 'the front-matter is not closed: add a "---" line before the prompt'),
    ]);
  }
  const yaml = parseYamlWithPositions(shown, lines.slice(1, end).join("\n"), 1);
  if (yaml.syntaxErrors.length) throw new ConfigErrors(yaml.syntaxErrors);
  const raw = yaml.value ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigErrors([
      new ConfigError(shown, 2, 1, "", "the front-matter must be a YAML mapping (key: value lines)"),
    ]);
  }
  const nulStrings = nulStringErrors(shown, yaml);
  if (nulStrings.length) throw new ConfigErrors(nulStrings);
  const parsed = RoutineFrontMatterSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigErrors(issuesToErrors(shown, yaml, parsed.error.issues));
  const prompt = lines
    .slice(end + 1)
    .join("\n")
    .trim();
  const fileName = basename(file).replace(/\.md$/, "");
  const name = parsed.data.name ?? fileName;
  const errors: ConfigError[] = [];
  const tooBig = promptSizeError(shown, end + 2, prompt);
  if (tooBig) errors.push(tooBig);
  if (!prompt) {
    errors.push(
      new ConfigError(
        shown,
        end + 1,
        1,
        "prompt",
        "the routine has no prompt: write the instructions after the closing ---",
      ),
    );
  }
  if (!parsed.data.name && !ROUTINE_NAME_RE.test(fileName)) {
    const slug =
      fileName
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, "-")
        .replace(/^[-_]+|-+$/g, "")
        .slice(0, 63) || "my-routine";
    errors.push(
      new ConfigError(
        shown,
        1,
        1,
        "name",
        `the routine name "${fileName}" comes from the file name and must be ${ROUTINE_NAME_RULE}, because it becomes part of the git branch (${parsed.data.branch_prefix}${fileName}-<session>); rename the file to ${slug}.md`,
      ),
    );
  }
  if (parsed.data.name && parsed.data.name !== fileName) {
    const { line, column } = yaml.locate(["name"]);
    errors.push(
      new ConfigError(
        shown,
        line,
        column,
        "name",
        `is "${parsed.data.name}" but the file is ${fileName}.md: make them match`,
      ),
    );
  }
  if (errors.length) throw new ConfigErrors(errors);
  return { ...parsed.data, name, prompt, file: resolve(file) };
}

/**
 * Where fields of a loaded routine's front-matter are, for errors found after loading (checks
 * against the project or the disk): `locate(["repos", 1])` gives its line and column. The file
 * is read again; if it went away, every field is at line 1.
 *
 * @returns the file as shown in messages (relative to the working directory) and the locator.
 */
export function routineLocator(routine: Pick<Routine, "file">): {
  shown: string;
  locate(path: (string | number)[]): { line: number; column: number };
} {
  const shown = relative(process.cwd(), routine.file) || routine.file;
  try {
    const lines = readFileSync(routine.file, "utf8").split(/\r?\n/);
    const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
    const yaml = parseYamlWithPositions(shown, lines.slice(1, end).join("\n"), 1);
    return { shown, locate: (path) => yaml.locate(path) };
  } catch {
    return { shown, locate: () => ({ line: 1, column: 1 }) };
  }
}

/** The result of loading every routine of a project: the valid ones and the errors of the others. */
export interface LoadedRoutines {
  routines: Routine[];
  errors: ConfigError[];
}

/**
 * Loads `.nightshift/routines/*.md` under `root`, sorted by name. Invalid files are reported,
 * not thrown. Unchanged files (same mtime and size) are not parsed again.
 */
export function loadRoutines(root: string): LoadedRoutines {
  const dir = join(root, PROJECT_DIR, "routines");
  const routines: Routine[] = [];
  const errors: ConfigError[] = [];
  if (!existsSync(dir)) return { routines, errors };
  for (const entry of readdirSync(dir)
    .filter((f) => f.endsWith(".md"))
    .sort()) {
    const file = join(dir, entry);
    const st = statSync(file);
    const cached = parsedFiles.get(file);
    let parsed: Routine | ConfigError[];
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
      parsed = cached.parsed;
    } else {
      try {
        parsed = parseRoutine(file, readFileSync(file, "utf8"));
      } catch (err) {
        if (!(err instanceof ConfigErrors)) throw err;
        parsed = err.errors;
      }
      parsedFiles.set(file, { mtimeMs: st.mtimeMs, size: st.size, parsed });
    }
    if (Array.isArray(parsed)) errors.push(...parsed);
    else routines.push(structuredClone(parsed));
  }
  return { routines, errors };
}

/**
 * Parsed routine files by path, reused while a file's mtime and size are unchanged: the
 * daemon reloads routines on every tick and request, and parsing thousands of files each time
 * would dominate its idle CPU.
 */
const parsedFiles = new Map<string, { mtimeMs: number; size: number; parsed: Routine | ConfigError[] }>();

/**
 * Loads one routine by name.
 * @throws {ConfigErrors} when the file is invalid.
 * @throws {RoutineNotFoundError} when no such routine exists (the message lists the ones that do).
 */
export function loadRoutine(root: string, name: string): Routine {
  const file = join(root, PROJECT_DIR, "routines", `${name}.md`);
  if (!existsSync(file)) {
    const { routines } = loadRoutines(root);
    const known = routines.map((r) => r.name).join(", ") || "none yet; create one with `nightshift init`";
    throw new RoutineNotFoundError(
      `no routine "${name}" in ${join(PROJECT_DIR, "routines")}/ (routines: ${known})`,
    );
  }
  return parseRoutine(file, readFileSync(file, "utf8"));
}

/**
 * Loads `.nightshift/config.yaml` (all defaults when the file is absent).
 * @throws {ConfigErrors} when the file is invalid.
 */
export function loadProjectConfig(root: string): ProjectConfig {
  const file = join(root, PROJECT_DIR, "config.yaml");
  const shown = relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    const config = ProjectConfigSchema.parse({});
    const problem = stateDirProblem(root, config.state_dir);
    if (problem)
      throw new ConfigErrors([new ConfigError(shown, 1, 1, "state_dir", `(the default) ${problem}`)]);
    return config;
  }
  const yaml = parseYamlWithPositions(shown, readFileSync(file, "utf8"));
  if (yaml.syntaxErrors.length) throw new ConfigErrors(yaml.syntaxErrors);
  const parsed = ProjectConfigSchema.safeParse(yaml.value ?? {});
  if (!parsed.success) throw new ConfigErrors(issuesToErrors(shown, yaml, parsed.error.issues));
  const problem = stateDirProblem(root, parsed.data.state_dir);
  if (problem) {
    const { line, column } = yaml.locate(["state_dir"]);
    throw new ConfigErrors([new ConfigError(shown, line, column, "state_dir", problem)]);
  }
  return parsed.data;
}

/**
 * Warnings about `.nightshift/config.yaml` that do not stop anything (a `secrets_file` readable
 * by others, inside the repository, or committed), located at the field's line.
 */
export function projectConfigWarnings(root: string, config: ProjectConfig): ConfigError[] {
  const warnings = secretsFileWarnings(root, config);
  if (warnings.length === 0) return [];
  const file = join(root, PROJECT_DIR, "config.yaml");
  const shown = relative(process.cwd(), file) || file;
  let at = { line: 1, column: 1 };
  try {
    at = parseYamlWithPositions(shown, readFileSync(file, "utf8")).locate(["secrets_file"]);
  } catch {
    // the file went away since it was loaded: report line 1
  }
  // The warnings name the field themselves ("secrets_file … can be read by …").
  return warnings.map((w) => new ConfigError(shown, at.line, at.column, "", w));
}
