import { mkdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { loadProjectConfig, loadRoutines } from "../config/load.ts";
import type { ProjectConfig } from "../config/project-schema.ts";
import { LocalForge } from "../forge/local/local-forge.ts";
import { openStore, type Store } from "../store/db.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { recoverInterruptedSessions } from "./recovery.ts";
import { repoNameFor, resolveRepos } from "./repos.ts";

/** An opened nightshift project: its settings, store and forge. Close it when done. */
export interface Project {
  root: string;
  config: ProjectConfig;
  /** Absolute state folder: store, mirrors, sessions, local forge. */
  stateDir: string;
  store: Store;
  forge: LocalForge;
  clock: Clock;
  /** Forge name of the project's own repository (`.`). */
  repoName: string;
  close(): Promise<void>;
}

/**
 * Opens the project at `root`: loads `.nightshift/config.yaml`, opens (and migrates) the
 * store, sets up the local forge for the project's repository and every repository its
 * routines name, and marks sessions of runner processes that died as failed.
 *
 * @throws {ConfigErrors} when config.yaml is invalid.
 */
export async function openProject(root: string, opts: { clock?: Clock } = {}): Promise<Project> {
  const absRoot = resolve(root);
  const config = loadProjectConfig(absRoot);
  const clock = opts.clock ?? systemClock;
  const stateDir = isAbsolute(config.state_dir) ? config.state_dir : join(absRoot, config.state_dir);
  mkdirSync(stateDir, { recursive: true });
  const store = await openStore(join(stateDir, "nightshift.db"));
  const repoName = repoNameFor(absRoot);
  const sources = new Map([[repoName, { name: repoName, path: absRoot }]]);
  for (const routine of loadRoutines(absRoot).routines) {
    for (const r of resolveRepos(absRoot, routine.repos)) if (!sources.has(r.name)) sources.set(r.name, r);
  }
  const forge = new LocalForge({
    db: store.db,
    dir: join(stateDir, "forge"),
    sources: [...sources.values()],
    clock,
    ...(config.forge.type === "local" && config.forge.ci
      ? { ci: config.forge.ci, ciTimeoutMs: config.forge.ci_timeout }
      : {}),
    identity: { name: config.git.author_name, email: config.git.author_email },
  });
  await recoverInterruptedSessions(store.db, clock.now());
  return { root: absRoot, config, stateDir, store, forge, clock, repoName, close: () => store.close() };
}
