/**
 * The runner's own git metadata for a session's workspace.
 *
 * The agent gets an ordinary clone (`<session>/workspace/<repo>`, with its `.git`) and may do
 * anything in it: commit, branch, rewrite `.git/config`, plant hooks, alternates, `commondir`,
 * `include.path`, filter drivers. None of that is trusted. The runner never runs git with the
 * agent's `.git` as its repository: every runner git call on a workspace uses a git dir the
 * runner made and owns, `<session>/git/<repo>.git`, outside what the agent can read or write,
 * with the agent's tree as `--work-tree`, no system or global configuration, hooks and
 * fsmonitor off, and no external diff, textconv or submodule recursion. What the runner takes
 * from the agent's `.git` is data only, validated on the way in:
 * - `HEAD`, which must name the session's own branch (a regular file, `ref: refs/heads/<b>`);
 * - that branch's commit id (a loose ref file or a `packed-refs` line; hexadecimal only);
 * - the object files under `objects/` (regular files only; `objects/info/` — alternates — and
 *   every symbolic link are skipped), copied into the runner's git dir.
 * Objects the agent borrowed from the mirror are found through the runner's own alternates file.
 */
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { git } from "../../util/git.ts";

/** A workspace as the runner sees it: its own git dir and the agent's tree. */
export interface RunnerRepo {
  /** The runner-owned git dir, `<session>/git/<repo>.git`. */
  gitDir: string;
  /** The agent's tree (the clone's top folder). */
  workTree: string;
}

/**
 * Configuration every runner git call on a workspace runs with: nothing the agent wrote can
 * name a program to run (hooks, fsmonitor, external diff, textconv, signing, submodule
 * recursion). Given as `-c` options, which also reach any git that git itself starts.
 */
const HARDENED: readonly string[] = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.untrackedCache=false",
  "core.sshCommand=false",
  "core.askPass=",
  "credential.helper=",
  "diff.external=",
  "diff.ignoreSubmodules=all",
  "submodule.recurse=false",
  "status.submoduleSummary=false",
  "commit.gpgSign=false",
  "tag.gpgSign=false",
  "protocol.ext.allow=never",
  "safe.directory=*",
].flatMap((kv) => ["-c", kv]);

/** Environment of runner git calls on a workspace: no system or global git config. */
const ISOLATED_ENV = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };

/**
 * Runs `git <args>` for the runner on a session's workspace: `--git-dir` is the runner's,
 * `--work-tree` the agent's tree, with {@link HARDENED} options and no system or global
 * configuration. `env` adds variables (commit identity, a forge's `GIT_CONFIG_*` credentials).
 *
 * @throws {GitError} when git fails.
 */
export function runnerGit(
  repo: RunnerRepo,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  return git(
    repo.workTree,
    [...HARDENED, `--git-dir=${repo.gitDir}`, `--work-tree=${repo.workTree}`, ...args],
    {
      env: { ...ISOLATED_ENV, ...env },
    },
  );
}

/**
 * Where a runner-owned git dir goes and what it starts from: `gitDir` (created), the agent's
 * `workTree`, the `mirror` whose objects it borrows, the session `branch` and its base
 * commit `headSha` (a full hex commit id).
 */
export interface RunnerGitDirOptions {
  gitDir: string;
  workTree: string;
  mirror: string;
  branch: string;
  headSha: string;
}

/**
 * Makes the runner's git dir for a freshly cloned workspace, before the agent runs: a bare
 * repository (used with `--work-tree`) that borrows the mirror's objects, with `branch` at
 * `headSha` as its HEAD and the clone's index (written by the runner's own clone a moment ago)
 * as its index. {@link initRunnerGitDir} then {@link adoptCloneIndex}.
 *
 * @throws {GitError} when git fails.
 */
export async function createRunnerGitDir(opts: RunnerGitDirOptions): Promise<RunnerRepo> {
  const repo = await initRunnerGitDir(opts);
  await adoptCloneIndex(repo);
  return repo;
}

/**
 * The part of {@link createRunnerGitDir} that needs no clone (so it can run while the clone
 * checks out): one `git init --bare --initial-branch=<branch>` (git checks the branch name),
 * then, in files of that new git dir only the runner writes, the mirror as its alternates,
 * `core.bare = false` (it is used with `--work-tree`) and `branch` at `headSha`. Nothing is
 * read from the workspace.
 *
 * @throws {GitError} when git fails (an invalid branch name).
 * @throws {Error} when `headSha` is not a full commit id.
 */
export async function initRunnerGitDir(opts: RunnerGitDirOptions): Promise<RunnerRepo> {
  if (!HEX_ID.test(opts.headSha))
    throw new Error(`nightshift: runner git dir: "${opts.headSha}" is not a full commit id`);
  const repo = { gitDir: opts.gitDir, workTree: opts.workTree };
  mkdirSync(opts.gitDir, { recursive: true, mode: 0o700 });
  await git(opts.gitDir, ["init", "--quiet", "--bare", `--initial-branch=${opts.branch}`, opts.gitDir], {
    env: ISOLATED_ENV,
  });
  writeFileSync(join(opts.gitDir, "objects", "info", "alternates"), `${join(opts.mirror, "objects")}\n`);
  const configFile = join(opts.gitDir, "config");
  const config = readFileSync(configFile, "utf8");
  const BARE = /^([ \t]*bare[ \t]*=[ \t]*)true[ \t]*$/m;
  if (BARE.test(config)) writeFileSync(configFile, config.replace(BARE, "$1false"));
  else await runnerGit(repo, ["config", "core.bare", "false"]);
  // `git init` checked the branch name (check-ref-format): no `..`, no leading `/`.
  const ref = join(opts.gitDir, "refs", "heads", ...opts.branch.split("/"));
  mkdirSync(dirname(ref), { recursive: true });
  writeFileSync(ref, `${opts.headSha}\n`);
  return repo;
}

/**
 * Gives the runner's git dir the index the runner's own clone just wrote in the workspace
 * (before the agent runs), or reads `HEAD`'s tree into a new one when there is none.
 *
 * @throws {GitError} when git fails.
 */
export async function adoptCloneIndex(repo: RunnerRepo): Promise<void> {
  const cloneIndex = join(repo.workTree, ".git", "index");
  if (existsSync(cloneIndex)) copyFileSync(cloneIndex, join(repo.gitDir, "index"));
  else await runnerGit(repo, ["read-tree", "HEAD"]);
}

/** Why the runner will not take the agent's commits. */
export class AgentGitRefusal extends Error {
  override name = "AgentGitRefusal";
}

const HEX_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_METADATA_BYTES = 64 * 1024;

/** Reads a small regular file of the agent's `.git` as text; `undefined` if absent. */
function readAgentFile(path: string, what: string): string | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (!st.isFile()) throw new AgentGitRefusal(`the workspace's ${what} is not a regular file`);
  if (st.size > MAX_METADATA_BYTES) throw new AgentGitRefusal(`the workspace's ${what} is too large`);
  return readFileSync(path, "utf8");
}

/**
 * Copies the regular files under `from` into `to` (same relative paths), skipping symbolic
 * links, other special files, names that already exist, and `skip` (top-level names).
 * @returns how many files were copied.
 */
function copyRegularFiles(from: string, to: string, skip: readonly string[] = []): number {
  let copied = 0;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (skip.includes(entry.name)) continue;
    const src = join(from, entry.name);
    const dest = join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(dest, { recursive: true });
      copied += copyRegularFiles(src, dest);
    } else if (entry.isFile() && !existsSync(dest)) {
      copyFileSync(src, dest);
      copied++;
    }
  }
  return copied;
}

/**
 * Takes the agent's commits on the session branch into the runner's git dir, as data: checks
 * that the agent's `.git` is a folder whose `HEAD` names `branch`, reads that branch's commit
 * id, copies the object files (see the module comment), and moves the runner's `branch` there.
 * Call it only once every process of the session is gone.
 *
 * @returns the commit the agent left on the branch (the start commit if it made none).
 * @throws {AgentGitRefusal} when the agent's `.git` is not something the runner delivers
 *   (replaced, HEAD on another branch or detached, an unreadable branch, missing objects),
 *   with a reason that says which.
 * @throws {GitError} when git fails.
 */
export async function importAgentCommits(repo: RunnerRepo, branch: string): Promise<string> {
  const dotGit = join(repo.workTree, ".git");
  let st;
  try {
    st = lstatSync(dotGit);
  } catch {
    throw new AgentGitRefusal("the agent removed the workspace's .git folder");
  }
  if (!st.isDirectory())
    throw new AgentGitRefusal("the workspace's .git was replaced by something other than a folder");
  const head = readAgentFile(join(dotGit, "HEAD"), ".git/HEAD")?.trim();
  if (!head) throw new AgentGitRefusal("the workspace's .git/HEAD is missing or empty");
  const symref = /^ref: (refs\/heads\/.+)$/.exec(head)?.[1];
  if (!symref) {
    throw new AgentGitRefusal(
      `the agent left HEAD detached${HEX_ID.test(head) ? ` at ${head.slice(0, 12)}` : ""}; nightshift delivers only the session's branch "${branch}"`,
    );
  }
  const agentBranch = symref.slice("refs/heads/".length);
  if (agentBranch !== branch) throw new AgentBranchRefusal(agentBranch, branch);
  const loose = readAgentFile(join(dotGit, ...symref.split("/")), `.git/${symref}`)?.trim();
  let sha = loose;
  if (sha === undefined) {
    const packed = readAgentFile(join(dotGit, "packed-refs"), ".git/packed-refs") ?? "";
    sha = packed
      .split("\n")
      .map((line) => line.split(" "))
      .find(([, name]) => name === symref)?.[0];
  }
  if (!sha || !HEX_ID.test(sha))
    throw new AgentGitRefusal(`the workspace's branch "${branch}" has no readable commit id`);
  const objects = join(dotGit, "objects");
  if (lstatSync(objects, { throwIfNoEntry: false })?.isDirectory()) {
    // objects/info holds alternates (and http-alternates): never followed for the agent.
    copyRegularFiles(objects, join(repo.gitDir, "objects"), ["info"]);
  }
  const type = await runnerGit(repo, ["cat-file", "-t", sha]).catch(() => "");
  if (type !== "commit")
    throw new AgentGitRefusal(
      `the workspace's branch "${branch}" points at ${sha.slice(0, 12)}, which is not a commit`,
    );
  await runnerGit(repo, ["update-ref", `refs/heads/${branch}`, sha]);
  return sha;
}

/** The agent left HEAD on another branch than the session's own. */
export class AgentBranchRefusal extends AgentGitRefusal {
  override name = "AgentBranchRefusal";
  /** The branch HEAD named. */
  readonly agentBranch: string;
  constructor(agentBranch: string, sessionBranch: string) {
    super(
      `the agent left HEAD on branch "${agentBranch}"; nightshift delivers only the session's own branch "${sessionBranch}"`,
    );
    this.agentBranch = agentBranch;
  }
}
