import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Kysely, Selectable } from "kysely";
import type { Database, ForgePullRequestsTable } from "../../store/schema.ts";
import { selectPullRequest } from "../../store/forge-items.ts";
import type { Clock } from "../../util/clock.ts";
import { git } from "../../util/git.ts";
import { ForgeError } from "../types.ts";
import type { CiConfinement } from "./ci-command.ts";

/** A repository the local forge hosts: its name and the working repository it publishes. */
export interface LocalSource {
  name: string;
  /** The user's repository on disk; its base branch is published to the forge before each session. */
  path: string;
  /** Base branch; defaults to the source's current branch. */
  base?: string;
}

/** Options of the local forge (`LocalForge`). Durations are ms. */
export interface LocalForgeOptions {
  db: Kysely<Database>;
  /** Folder of the bare repositories (`<state_dir>/forge`). */
  dir: string;
  sources: LocalSource[];
  clock: Clock;
  /** The project's CI command (`forge.ci`), run with `/bin/sh -c` on a pull request's head. */
  ci?: string;
  /** How long one CI run may take (`forge.ci_timeout`); default 10 minutes. */
  ciTimeoutMs?: number;
  /** Confines the CI command, which runs agent-written code (see {@link CiConfinement}). */
  ciConfine?: CiConfinement;
  /**
   * Author and committer of the merge commits `updateBranch` makes, unless the environment
   * sets `GIT_AUTHOR_*`/`GIT_COMMITTER_*`; default `nightshift <nightshift@localhost>`.
   */
  identity?: { name: string; email: string };
}

/**
 * What every job of the local forge shares (publishing, items, merge status, CI, review
 * threads, update-branch): the store, the folder of bare repositories, the sources, the clock
 * and the CI settings, defaults applied. The modules beside this one are functions of it;
 * `LocalForge` is their facade.
 */
export interface LocalForgeState {
  readonly db: Kysely<Database>;
  /** Folder of the bare repositories. */
  readonly dir: string;
  /** Sources by forge name. */
  readonly sources: ReadonlyMap<string, LocalSource>;
  readonly clock: Clock;
  readonly ci: string | undefined;
  readonly ciTimeoutMs: number;
  readonly ciConfine: CiConfinement | undefined;
  readonly identity: { name: string; email: string };
}

/** The shared state for `opts`, with the defaults: a 10-minute CI timeout, `nightshift <nightshift@localhost>`. */
export function localForgeState(opts: LocalForgeOptions): LocalForgeState {
  return {
    db: opts.db,
    dir: opts.dir,
    sources: new Map(opts.sources.map((s) => [s.name, s])),
    clock: opts.clock,
    ci: opts.ci,
    ciTimeoutMs: opts.ciTimeoutMs ?? 600_000,
    ciConfine: opts.ciConfine,
    identity: opts.identity ?? { name: "nightshift", email: "nightshift@localhost" },
  };
}

/** Path of the bare repository that holds `name`. */
export function barePath(s: LocalForgeState, name: string): string {
  return join(s.dir, `${name}.git`);
}

/** Key of the lock that serialises publishing and branch updates on one bare repository. */
export function repoLock(s: LocalForgeState, name: string): string {
  return `forge:${barePath(s, name)}`;
}

/** Branch name → commit of every branch in the bare repository (one `git for-each-ref`). */
export async function branchTips(s: LocalForgeState, repo: string): Promise<Map<string, string>> {
  const bare = barePath(s, repo);
  const tips = new Map<string, string>();
  if (!existsSync(join(bare, "HEAD"))) return tips;
  const out = await git(bare, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"]);
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) tips.set(line.slice(space + 1).replace(/^refs\/heads\//, ""), line.slice(0, space));
  }
  return tips;
}

/**
 * The stored row of pull request `number`.
 * @throws {ForgeError} when there is no such pull request.
 */
export async function pullRequestRow(
  s: LocalForgeState,
  repo: string,
  number: number,
): Promise<Selectable<ForgePullRequestsTable>> {
  const row = await selectPullRequest(s.db, repo, number);
  if (!row)
    throw new ForgeError(`local forge: ${repo} has no pull request #${number} (see \`nightshift pr list\`)`);
  return row;
}

/** Maps `items` with at most `limit` calls of `fn` at a time, keeping the order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
