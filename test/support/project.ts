/**
 * Real git repositories and nightshift projects in temporary folders, and the real CLI run
 * as a child process, for integration tests.
 */
import { LocalForge } from "../../src/forge/local/local-forge.ts";
import type { Forge } from "../../src/forge/types.ts";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const made: string[] = [];

/** A new temporary folder, removed by {@link cleanupTemp}. */
export function tempDir(prefix = "nightshift-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder made by {@link tempDir}. */
export function cleanupTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

const GIT_ID = {
  GIT_AUTHOR_NAME: "test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
};

/** Runs git in `cwd` and returns stdout. */
export async function gitOut(cwd: string, ...args: string[]): Promise<string> {
  const r = await execa("git", args, { cwd, env: GIT_ID });
  return String(r.stdout).trim();
}

/** Writes `files` (path → text) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** A git repository on `main` with `files` committed. */
export async function makeRepo(
  files: Record<string, string>,
  dir = join(tempDir(), "repo"),
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFiles(dir, files);
  await gitOut(dir, "init", "--quiet", "--initial-branch=main");
  await gitOut(dir, "add", "--all");
  await gitOut(dir, "commit", "--quiet", "-m", "initial");
  return dir;
}

/** Writes `.nightshift/routines/<name>.md` from front-matter lines and a prompt. */
export function writeRoutine(
  repo: string,
  name: string,
  frontMatter: string,
  prompt = "Do the task.",
): string {
  const file = join(repo, ".nightshift", "routines", `${name}.md`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `---\n${frontMatter.trim()}\n---\n${prompt}\n`);
  return file;
}

/** Result of running the CLI. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `nightshift` CLI (`node src/cli/main.ts`) in `cwd` with exactly `env` plus PATH and HOME. */
export async function runCli(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const r = await execa(process.execPath, [join(ROOT, "src", "cli", "main.ts"), ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      NO_COLOR: "1",
      ...env,
    },
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Refs under refs/heads of a (bare) repository. */
export async function branches(repo: string): Promise<string[]> {
  const out = await gitOut(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads");
  return out ? out.split("\n") : [];
}

/** The project's forge as the local forge (tests of the embedded setup); throws for any other forge. */
export function localForgeOf(project: { forge: Forge }): LocalForge {
  if (!(project.forge instanceof LocalForge))
    throw new Error(`expected the local forge, got ${project.forge.kind}`);
  return project.forge;
}

/**
 * Commits `files` on a new branch `name` cut from `from` in the working repository `src`,
 * pushes it to the forge's bare repository `bare`, returns to `main`, and returns the
 * branch's commit.
 */
export async function pushBranch(
  src: string,
  bare: string,
  name: string,
  from: string,
  files: Record<string, string>,
): Promise<string> {
  await gitOut(src, "checkout", "--quiet", "-b", name, from);
  writeFiles(src, files);
  await gitOut(src, "add", "--all");
  await gitOut(src, "commit", "--quiet", "-m", `work on ${name}`);
  await gitOut(src, "push", "--quiet", bare, `${name}:${name}`);
  await gitOut(src, "checkout", "--quiet", "main");
  return gitOut(src, "rev-parse", name);
}

/**
 * Starts the real `nightshift serve --port 0` in `repo` (logs at `warn` unless `env` says
 * otherwise) and resolves `url` with the first line it prints: the address it listens on.
 */
export function startServe(
  repo: string,
  env: Record<string, string> = {},
): { proc: ResultPromise; url: Promise<string> } {
  const proc = execa(process.execPath, [join(ROOT, "src", "cli", "main.ts"), "serve", "--port", "0"], {
    cwd: repo,
    reject: false,
    stdin: "ignore",
    env: { NIGHTSHIFT_LOG_LEVEL: "warn", ...env },
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(line.trim());
    });
    proc.catch(reject);
  });
  return { proc, url };
}
