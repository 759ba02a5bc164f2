/**
 * The setup cache: `<state>/setup-cache/<hash>/` holds what one successful setup script left
 * behind — `repos/<i>/` (the files of the i-th clone that git does not track: untracked and
 * ignored, such as `node_modules/`), `home/` (everything it wrote to the session's HOME) — and
 * `meta.json`, written last. An entry is built in a temporary folder beside it and renamed into
 * place, so a reader sees a whole entry or none. Entries are never changed; deleting the folder
 * (or any entry) is always safe: the next session runs the script again.
 *
 * Copies use GNU tar (snapshot: a list of paths from git, NUL-separated) and `cp -a
 * --reflink=auto` (restore: shares blocks on filesystems that can, such as Btrfs and XFS).
 *
 * One setup per hash at a time: `<hash>.lock`, created with O_EXCL, holds the pid and host of
 * the process running the script; others wait for it (polling every 250 ms on the session's
 * clock) and then use its entry. A lock whose process is gone (same host) is taken over.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  constants,
  lstatSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../util/clock.ts";
import { runnerGit, type RunnerRepo } from "../workspace/runner-git.ts";
import type { SetupRepo } from "./hash.ts";
import { processAlive } from "../../util/process.ts";
import { errorCode } from "../../util/errors.ts";

/** Folder of the cache under the state folder. */
export const SETUP_CACHE_DIR = "setup-cache";

/** What `meta.json` records about an entry. Times are ms since the epoch. */
export interface SetupCacheMeta {
  hash: string;
  createdAt: number;
  /** The session whose setup made the entry. */
  sessionId: string;
  environment: string;
  /** How long the script ran (ms). */
  durationMs: number;
  repos: string[];
  lockfiles: string[];
  /** Top-level paths saved per repository (`node_modules/`, `.venv/`, …). */
  saved: Record<string, string[]>;
  /** Of those, the ones no `.gitignore` covers: listed in `.git/info/exclude` of every workspace. */
  hidden: Record<string, string[]>;
}

/** The cache folder of a project. */
export function setupCacheRoot(stateDir: string): string {
  return join(stateDir, SETUP_CACHE_DIR);
}

/** The entry for `hash`, or `undefined` when there is none (or it is incomplete). */
export function readEntry(root: string, hash: string): SetupCacheMeta | undefined {
  try {
    return JSON.parse(readFileSync(join(root, hash, "meta.json"), "utf8")) as SetupCacheMeta;
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err)
        reject(
          new Error(`${cmd} ${args.slice(0, 3).join(" ")} failed: ${stderr.trim() || errorCode(err)}`, {
            cause: err,
          }),
        );
      else resolve();
    });
  });
}

/** Copies `paths` (relative to `from`; folders whole) to `to`, keeping modes, times and links. */
async function tarCopy(from: string, paths: string[], to: string, listFile: string): Promise<void> {
  mkdirSync(to, { recursive: true });
  if (paths.length === 0) return;
  writeFileSync(listFile, paths.map((p) => `${p}\0`).join(""));
  await run("bash", [
    "-c",
    'set -o pipefail; tar -C "$1" --null --verbatim-files-from -T "$2" -cf - | tar -C "$3" -xpf -',
    "nightshift-setup-cache",
    from,
    listFile,
    to,
  ]);
  rmSync(listFile, { force: true });
}

/**
 * Paths of a clone that git does not track — untracked and ignored — with untracked folders
 * as one entry (`node_modules/`).
 */
export async function untrackedPaths(repo: RunnerRepo): Promise<string[]> {
  const out = await runnerGit(repo, ["ls-files", "--others", "--directory", "-z"]);
  return out
    .split("\0")
    .filter(Boolean)
    .map((p) => p.replace(/\/$/, ""));
}

/** A path as an anchored, literal `.gitignore` pattern. */
function excludePattern(path: string): string {
  return `/${path.replace(/[\\*?[\]!# ]/g, (c) => `\\${c}`)}`;
}

/**
 * Keeps what the setup script left out of the session's commit: paths it created that no
 * `.gitignore` covers (a `.venv/` in a repository that does not ignore it) are added to the
 * `info/exclude` of the runner's git dir, which delivery reads, and — for the agent's own
 * `git status` — of the clone's `.git`, unless something there is a symbolic link (the setup
 * script ran untrusted code in the clone; the runner never writes through a link).
 * @returns the paths added (relative to the clone).
 */
export async function hideSetupOutput(
  repo: { path: string; runner: RunnerRepo },
  paths?: string[],
): Promise<string[]> {
  const visible =
    paths ??
    (await runnerGit(repo.runner, ["ls-files", "--others", "--exclude-standard", "--directory", "-z"]))
      .split("\0")
      .filter(Boolean)
      .map((p) => p.replace(/\/$/, ""));
  if (visible.length === 0) return [];
  const text = `\n# written by the nightshift setup script (cached setup output, not part of the session's work)\n${visible.map(excludePattern).join("\n")}\n`;
  const runnerInfo = join(repo.runner.gitDir, "info");
  mkdirSync(runnerInfo, { recursive: true });
  appendFileSync(join(runnerInfo, "exclude"), text);
  appendWithoutLinks(join(repo.path, ".git"), ["info", "exclude"], text);
  return visible;
}

/**
 * Appends `text` to `base/<parts…>` when neither `base` nor any part is a symbolic link
 * (checked with lstat, the file opened with O_NOFOLLOW); otherwise does nothing.
 */
function appendWithoutLinks(base: string, parts: string[], text: string): void {
  let path = base;
  for (const [i, part] of [undefined, ...parts].entries()) {
    if (part !== undefined) path = join(path, part);
    const st = lstatSync(path, { throwIfNoEntry: false });
    const last = i === parts.length;
    if (st?.isSymbolicLink() || (st && !last && !st.isDirectory()) || (st && last && !st.isFile())) return;
    if (!st && !last) mkdirSync(path);
  }
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Saves what a setup script left in the clones (untracked and ignored files) and in `home`
 * as the entry for `hash`. When another process stored the same hash meanwhile, its entry
 * is kept and this copy dropped.
 */
export async function storeEntry(opts: {
  root: string;
  meta: Omit<SetupCacheMeta, "saved" | "hidden">;
  /** Per repository name: paths {@link hideSetupOutput} hid. */
  hidden: Record<string, string[]>;
  repos: SetupRepo[];
  home: string;
}): Promise<SetupCacheMeta> {
  const { root, repos } = opts;
  mkdirSync(root, { recursive: true });
  const building = join(root, `.building-${opts.meta.hash.slice(0, 16)}-${randomBytes(6).toString("hex")}`);
  try {
    const saved: Record<string, string[]> = {};
    for (const [i, repo] of repos.entries()) {
      const paths = await untrackedPaths(repo.runner);
      saved[repo.name] = paths;
      await tarCopy(repo.path, paths, join(building, "repos", String(i)), `${building}.list`);
    }
    await run("cp", ["-a", "--reflink=auto", `${opts.home}/.`, join(building, "home")]);
    const meta: SetupCacheMeta = { ...opts.meta, saved, hidden: opts.hidden };
    writeFileSync(join(building, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
    const dest = join(root, opts.meta.hash);
    if (existsSync(dest)) return readEntry(root, opts.meta.hash) ?? meta;
    renameSync(building, dest);
    return meta;
  } finally {
    rmSync(building, { recursive: true, force: true });
    rmSync(`${building}.list`, { force: true });
  }
}

/**
 * Copies the entry for `hash` into a fresh workspace (`repos`, in the same order) and HOME,
 * and hides the same paths from delivery as the session that made it.
 */
export async function restoreEntry(
  root: string,
  meta: SetupCacheMeta,
  repos: SetupRepo[],
  home: string,
): Promise<void> {
  const entry = join(root, meta.hash);
  for (const [i, repo] of repos.entries()) {
    const saved = join(entry, "repos", String(i));
    if (existsSync(saved)) await run("cp", ["-a", "--reflink=auto", `${saved}/.`, repo.path]);
    const hidden = meta.hidden?.[repo.name] ?? [];
    if (hidden.length) await hideSetupOutput(repo, hidden);
  }
  mkdirSync(home, { recursive: true });
  if (existsSync(join(entry, "home")))
    await run("cp", ["-a", "--reflink=auto", `${join(entry, "home")}/.`, home]);
}

/** The setup of a hash could not be started: another process holds its lock for too long, or the session was cancelled. */
export class SetupLockError extends Error {
  override name = "SetupLockError";
  readonly cancelled: boolean;
  constructor(message: string, cancelled = false) {
    super(message);
    this.cancelled = cancelled;
  }
}

/**
 * Takes the lock of `hash` (`<root>/<hash>.lock`), waiting while another live process holds
 * it. Returns `"cached"` as soon as an entry for the hash exists (another process finished it),
 * otherwise a function that releases the lock.
 *
 * @throws {SetupLockError} after `timeoutMs` of waiting, or when `signal` aborts.
 */
export async function lockSetup(opts: {
  root: string;
  hash: string;
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<"cached" | (() => void)> {
  const { root, hash, clock } = opts;
  mkdirSync(root, { recursive: true });
  const file = join(root, `${hash}.lock`);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), at: clock.now() });
  const started = clock.now();
  for (;;) {
    if (readEntry(root, hash)) return "cached";
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, me);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8") === me) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(readFileSync(file, "utf8")) as typeof holder;
    } catch {
      // being written or just removed: look again
    }
    if (holder.pid && holder.host === hostname() && !processAlive(holder.pid)) {
      rmSync(file, { force: true });
      continue;
    }
    if (opts.signal?.aborted)
      throw new SetupLockError("cancelled while waiting for another session's setup", true);
    if (clock.now() - started >= opts.timeoutMs) {
      throw new SetupLockError(
        `waited ${Math.round((clock.now() - started) / 1000)} s for the setup another process runs (pid ${holder.pid ?? "?"} on ${holder.host ?? "?"}, lock ${file}); if no such process exists, delete the lock file`,
      );
    }
    await new Promise<void>((resolve) => {
      const cancel = clock.setTimer(250, resolve);
      opts.signal?.addEventListener(
        "abort",
        () => {
          cancel();
          resolve();
        },
        { once: true },
      );
    });
  }
}
