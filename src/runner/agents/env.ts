import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentContext } from "./types.ts";

/**
 * The nightshift checkout (or installed package) root: the nearest folder above this module
 * with a `package.json` — `src/runner/agents/../../..` when running the sources, `dist/..` (or
 * `dist/chunks/../..`) when running the bundle of scripts/build.mjs.
 */
export const NIGHTSHIFT_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(from: string): string {
  for (let dir = from; ;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return join(from, "..", "..", "..");
    dir = up;
  }
}

/**
 * Finds an agent CLI: an explicit override variable, then the version nightshift pins in its
 * own `node_modules/.bin`, then `PATH`.
 */
export function resolveBin(name: string, overrideVar: string, hostEnv: NodeJS.ProcessEnv): string {
  const override = hostEnv[overrideVar];
  if (override) return override;
  const pinned = join(NIGHTSHIFT_ROOT, "node_modules", ".bin", name);
  return existsSync(pinned) ? pinned : name;
}

/**
 * The environment every agent starts from: no variable of the host passes unless named here
 * or by the adapter (credentials), so forge tokens and other secrets stay outside.
 */
export function baseAgentEnv(ctx: AgentContext, pass: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {
    PATH: ctx.hostEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: ctx.home,
    TMPDIR: ctx.tmp,
    LANG: ctx.hostEnv.LANG ?? "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    CI: "1",
    NIGHTSHIFT_SESSION_ID: ctx.sessionId,
    NIGHTSHIFT_ROUTINE: ctx.routine.name,
    // The runner commits; make the agent's own commits attributable too.
    GIT_AUTHOR_NAME: "nightshift agent",
    GIT_AUTHOR_EMAIL: "agent@nightshift.invalid",
    GIT_COMMITTER_NAME: "nightshift agent",
    GIT_COMMITTER_EMAIL: "agent@nightshift.invalid",
    GIT_TERMINAL_PROMPT: "0",
  };
  for (const name of pass) {
    const v = ctx.hostEnv[name];
    if (v !== undefined && v !== "") env[name] = v;
  }
  Object.assign(env, ctx.extraEnv);
  return env;
}

/** True when any of `names` is set (non-empty) in `env`. */
export function hasAny(env: NodeJS.ProcessEnv, names: readonly string[]): boolean {
  return names.some((n) => (env[n] ?? "") !== "");
}

/**
 * Writes the session's prompt to `<tmp>/prompt.md` (mode 0600; replaced on each agent pass)
 * and returns its absolute path. Adapters hand this file to the agent — as its standard input
 * or by name — and never put the prompt on the command line or in an environment variable:
 * Linux limits one such string to 128 KiB (`MAX_ARG_STRLEN`).
 */
export function writePromptFile(ctx: AgentContext): string {
  const file = join(ctx.tmp, "prompt.md");
  writeFileSync(file, ctx.prompt, { mode: 0o600 });
  return file;
}
