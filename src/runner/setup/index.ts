/**
 * The environment's setup script, cached by hash (see hash.ts for the key, cache.ts for the
 * entries and the lock, run.ts for how the script runs).
 *
 * For a session whose environment has `setup:`: compute the key; if the cache has an entry,
 * restore it into the fresh workspace and HOME (`setup` event `restored`, cached: true);
 * otherwise run the script (`started`, then `finished` with exit code, output tail and
 * duration) and, when it exits 0, store what it left as the entry. A failing script fails the
 * session (`environment_error`, the reason ends with its output) and is not cached.
 *
 * Sessions with the same key never run the script twice at once: in one process they queue on
 * the key (`serialised`), across processes on the lock file; whoever comes second waits and
 * then restores the first one's entry (or, if the first failed, runs the script itself).
 */
import { formatDuration } from "../../config/duration.ts";
import type { Routine } from "../../config/routine-schema.ts";
import type { Clock } from "../../util/clock.ts";
import { runnerGit } from "../workspace/runner-git.ts";
import { serialised } from "../../util/serialised.ts";
import type { ResolvedEnvironment } from "../environment.ts";
import type { SandboxPolicy } from "../sandbox/policy.ts";
import type { RunnerEvent } from "../transcript/events.ts";
import {
  hideSetupOutput,
  lockSetup,
  readEntry,
  restoreEntry,
  SetupLockError,
  setupCacheRoot,
  storeEntry,
} from "./cache.ts";
import { type SetupRepo, setupKey } from "./hash.ts";
import { runSetupScript } from "./run.ts";

/** Why the session cannot go on: shaped like the session's own finish record. */
export interface SetupFailure {
  state: "failed" | "cancelled" | "timed_out";
  infra: "environment_error" | "cancelled" | "timeout";
  reason: string;
}

/** Options of {@link prepareSetup}. Durations are ms. */
export interface PrepareSetupOptions {
  stateDir: string;
  environment: ResolvedEnvironment;
  routine: Routine;
  sessionId: string;
  /** The session's clones, in the routine's order. */
  repos: SetupRepo[];
  /** Where the script runs: the agent's working directory. */
  cwd: string;
  home: string;
  tmp: string;
  /** The agent's sandbox policy; the script runs under the same one. */
  policy: SandboxPolicy;
  hostEnv: NodeJS.ProcessEnv;
  clock: Clock;
  /** Longest the script may run, and longest to wait for another process's run of it. */
  /** What is left of the session's one deadline (ms): the script is stopped when it runs out. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Stores an event in the session's transcript (redacted there). */
  record(event: RunnerEvent): Promise<void>;
}

/**
 * Makes the workspace ready as the environment's setup script leaves it, from the cache or
 * by running it. Does nothing when the environment has no `setup`.
 * @returns `undefined` when the session can go on, else how it ends.
 */
export async function prepareSetup(opts: PrepareSetupOptions): Promise<SetupFailure | undefined> {
  const { environment, clock } = opts;
  if (!environment.setup) return undefined;
  const root = setupCacheRoot(opts.stateDir);
  const { hash, lockfiles } = await setupKey(environment, opts.repos);
  const restore = async (how: string) => {
    const t0 = clock.now();
    const meta = readEntry(root, hash)!;
    await restoreEntry(root, meta, opts.repos, opts.home);
    await opts.record({
      type: "setup",
      phase: "restored",
      hash,
      cached: true,
      durationMs: clock.now() - t0,
      detail: `${how}: the result of session ${meta.sessionId}'s setup (${meta.durationMs} ms), lockfiles: ${lockfiles.join(", ") || "none"}`,
    });
    return undefined;
  };
  if (readEntry(root, hash)) return restore("cache hit");

  return serialised(`setup:${root}:${hash}`, async (): Promise<SetupFailure | undefined> => {
    let release: "cached" | (() => void);
    try {
      release = await lockSetup({
        root,
        hash,
        clock,
        timeoutMs: opts.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (!(err instanceof SetupLockError)) throw err;
      return err.cancelled
        ? {
            state: "cancelled",
            infra: "cancelled",
            reason: `cancelled before the setup script ran (${err.message})`,
          }
        : { state: "failed", infra: "environment_error", reason: `setup script not run: ${err.message}` };
    }
    if (release === "cached") return restore("cache hit after waiting for another session's setup");
    try {
      await opts.record({
        type: "setup",
        phase: "started",
        hash,
        cached: false,
        detail: `cache miss: running the setup script of environment "${environment.name}" in ${opts.cwd}; lockfiles: ${lockfiles.join(", ") || "none"}`,
      });
      const ran = await runSetupScript({
        script: environment.setup!,
        routine: opts.routine,
        sessionId: opts.sessionId,
        cwd: opts.cwd,
        home: opts.home,
        tmp: opts.tmp,
        policy: opts.policy,
        extraEnv: environment.env,
        hostEnv: opts.hostEnv,
        clock,
        timeoutMs: opts.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const ok = ran.exitCode === 0 && !ran.timedOut && !ran.cancelled;
      const finished = (detail: string) =>
        opts.record({
          type: "setup",
          phase: "finished",
          hash,
          cached: false,
          exitCode: ran.exitCode,
          output: ran.tail,
          durationMs: ran.durationMs,
          detail,
        });
      if (!ok) await finished("not cached");
      if (ran.cancelled)
        return { state: "cancelled", infra: "cancelled", reason: "cancelled while the setup script ran" };
      if (ran.timedOut)
        return {
          state: "timed_out",
          infra: "timeout",
          reason: `the session's timeout (${formatDuration(opts.routine.timeout)}) ran out while the setup script of environment "${environment.name}" ran; it was stopped with its child processes; its output ends with:\n${ran.tail.slice(-2000) || "(no output)"}`,
        };
      if (!ok) {
        const how = `exited with ${ran.exitCode ?? ran.signal}`;
        return {
          state: "failed",
          infra: "environment_error",
          reason: `the setup script of environment "${environment.name}" ${how}; its output ends with:\n${ran.tail.slice(-2000) || "(no output)"}`,
        };
      }
      const changed = await discardTrackedChanges(opts.repos);
      if (changed.length) {
        await opts.record({
          type: "warning",
          message: `the setup script changed files git tracks (${changed.slice(0, 10).join(", ")}${changed.length > 10 ? `, … ${changed.length - 10} more` : ""}); those changes were discarded: only untracked and ignored files are cached and reused (use lockfile-exact installs such as npm ci)`,
        });
      }
      const storing = clock.now();
      const hidden: Record<string, string[]> = {};
      for (const repo of opts.repos) hidden[repo.name] = await hideSetupOutput(repo);
      const stored = await storeEntry({
        root,
        repos: opts.repos,
        home: opts.home,
        hidden,
        meta: {
          hash,
          createdAt: clock.now(),
          sessionId: opts.sessionId,
          environment: environment.name,
          durationMs: ran.durationMs,
          repos: opts.repos.map((r) => r.name),
          lockfiles,
        },
      });
      const paths = Object.values(stored.saved).flat();
      await finished(
        `stored in the setup cache in ${clock.now() - storing} ms: ${paths.slice(0, 10).join(", ") || "no files in the workspace"}${paths.length > 10 ? `, … ${paths.length - 10} more` : ""}, and HOME`,
      );
      return undefined;
    } finally {
      release();
    }
  });
}

/**
 * Puts files git tracks back as they were committed, so a session with a cache miss and one
 * with a hit start from the same tree (the cache holds untracked and ignored files only).
 * @returns `repo/path` of the files that had changed.
 */
async function discardTrackedChanges(repos: SetupRepo[]): Promise<string[]> {
  const changed: string[] = [];
  for (const repo of repos) {
    const status = await runnerGit(repo.runner, ["status", "--porcelain", "-z", "--untracked-files=no"]);
    const paths = status
      .split("\0")
      .filter((e) => /^.. /.test(e))
      .map((e) => `${repo.name}/${e.slice(3)}`);
    if (paths.length === 0) continue;
    changed.push(...paths);
    await runnerGit(repo.runner, ["reset", "--hard", "--quiet", "HEAD"]);
  }
  return changed;
}
