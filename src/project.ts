import { chmodSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadProjectConfig, loadRoutines } from "./config/load.ts";
import { stateDirPath } from "./config/project-checks.ts";
import type { ProjectConfig } from "./config/project-schema.ts";
import type { GithubThrottleOptions } from "./forge/github/client.ts";
import { createForge } from "./forge/index.ts";
import type { Forge } from "./forge/types.ts";
import { openStore, type Store } from "./store/db.ts";
import { type Clock, systemClock } from "./util/clock.ts";
import { recoverInterruptedSessions } from "./runner/recovery.ts";
import { repoNameFor, resolveRepos } from "./runner/repos.ts";
import { sandboxedCi } from "./runner/sandbox/ci-confinement.ts";

/** An opened nightshift project: its settings, store and forge. Close it when done. */
export interface Project {
  root: string;
  config: ProjectConfig;
  /** Absolute state folder: store, mirrors, sessions, local forge. */
  stateDir: string;
  store: Store;
  forge: Forge;
  clock: Clock;
  /** Forge name of the project's own repository (`.`): its folder name locally, `owner/name` on GitHub. */
  repoName: string;
  close(): Promise<void>;
}

/** The folders nightshift keeps in its state folder; each is created private (0700). */
export const STATE_SUBDIRS = ["sessions", "mirrors", "forge", "setup-cache"] as const;

/**
 * Makes the state folder and the folders nightshift keeps in it ({@link STATE_SUBDIRS}) exist
 * and private to the current user (0700), tightening ones that already exist, whatever the
 * umask: on a machine shared with other users, nothing of the store, the local forge or the
 * sessions' workspaces is readable by them.
 */
export function secureStateDir(stateDir: string): void {
  for (const dir of [stateDir, ...STATE_SUBDIRS.map((d) => join(stateDir, d))]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
}

/**
 * Opens the project at `root`: loads `.nightshift/config.yaml`, makes the state folder private
 * (0700, see {@link secureStateDir}), opens (and migrates) the store, sets up the local forge for the project's repository and every repository its
 * routines name, and marks sessions of runner processes that died as failed.
 *
 * @throws {ConfigErrors} when config.yaml is invalid.
 */
export async function openProject(
  root: string,
  opts: {
    clock?: Clock;
    /** Where the GitHub token variable is read; default `process.env`. */
    env?: Record<string, string | undefined>;
    /** Throttling overrides for the GitHub client (tests against a fake GitHub). */
    githubThrottle?: GithubThrottleOptions;
  } = {},
): Promise<Project> {
  const absRoot = resolve(root);
  const config = loadProjectConfig(absRoot);
  const clock = opts.clock ?? systemClock;
  const stateDir = stateDirPath(absRoot, config.state_dir);
  secureStateDir(stateDir);
  const store = await openStore(join(stateDir, "nightshift.db"));
  try {
    return await withStore(absRoot, config, stateDir, store, clock, opts);
  } catch (err) {
    // Nothing keeps the store open when the project cannot be opened.
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** The rest of {@link openProject} once the store is open: sources, forge, recovery. */
async function withStore(
  absRoot: string,
  config: ProjectConfig,
  stateDir: string,
  store: Store,
  clock: Clock,
  opts: { env?: Record<string, string | undefined>; githubThrottle?: GithubThrottleOptions },
): Promise<Project> {
  const repoName = config.forge.type === "github" ? config.forge.repo : repoNameFor(absRoot);
  const sources = new Map([[repoName, { name: repoName, path: absRoot }]]);
  for (const routine of loadRoutines(absRoot).routines) {
    for (const r of resolveRepos(absRoot, routine.repos, repoName))
      if (!sources.has(r.name)) sources.set(r.name, r);
  }
  const forge = await createForge(config.forge, {
    root: absRoot,
    clock,
    db: store.db,
    dir: join(stateDir, "forge"),
    sources: [...sources.values()],
    identity: { name: config.git.author_name, email: config.git.author_email },
    ciConfine: sandboxedCi({ root: absRoot, stateDir, config }),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.githubThrottle ? { githubThrottle: opts.githubThrottle } : {}),
  });
  await recoverInterruptedSessions(store.db, clock.now());
  return { root: absRoot, config, stateDir, store, forge, clock, repoName, close: () => store.close() };
}
