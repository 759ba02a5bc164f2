import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SessionRow } from "../../store/schema.ts";
import { updateSession } from "../../store/sessions.ts";
import { AGENT_ADAPTERS } from "../agents/index.ts";
import type { AgentAdapter } from "../agents/types.ts";
import { EnvironmentError, type ResolvedEnvironment, resolveEnvironment } from "../environment.ts";
import { resolveMcpServers, type SessionMcp } from "../mcp/servers.ts";
import { resolveRepos } from "../repos.ts";
import { cloneWorkspace } from "../workspace/clone.ts";
import { updateMirror } from "../workspace/mirror.ts";
import { type RunnerRepo, runnerGit } from "../workspace/runner-git.ts";
import type { PhaseResult, SessionContext } from "./context.ts";

/** What the session runs with: the agent's adapter, the resolved environment and MCP servers. */
export interface SessionInputs {
  adapter: AgentAdapter;
  environment: ResolvedEnvironment;
  mcp: SessionMcp;
}

/** One repository cloned into the session's workspace. */
export interface SessionClone {
  name: string;
  /** The clone the agent works in. */
  path: string;
  runner: RunnerRepo;
  mirror: string;
  baseSha: string;
  baseBranch: string;
  remoteUrl: string;
}

/** The session's folders, branch and clones (the first clone is the primary repository). */
export interface SessionWorkspace {
  sessionDir: string;
  home: string;
  tmp: string;
  branch: string;
  clones: SessionClone[];
  primary: SessionClone;
  /** The agent's working folder: the clone, or the workspace folder holding several. */
  cwd: string;
}

/**
 * Checks the agent's credentials and resolves the routine's environment and MCP servers;
 * their values join the redactor, the environment's warnings and the work's filtered items
 * are recorded.
 *
 * @returns the inputs, or the end: `missing_credentials`, `environment_error`.
 */
export async function resolveInputs(ctx: SessionContext): Promise<PhaseResult<SessionInputs>> {
  const { project, routine, hostEnv, transcript, work } = ctx;
  const adapter = AGENT_ADAPTERS[routine.agent];
  const credentialProblem = adapter.checkCredentials(hostEnv);
  if (credentialProblem)
    return { end: { state: "failed", infra: "missing_credentials", reason: credentialProblem } };
  let environment: ResolvedEnvironment;
  let mcp: SessionMcp;
  try {
    environment = resolveEnvironment(project, routine, hostEnv);
    mcp = resolveMcpServers(project, routine, hostEnv, environment.sandbox === "on");
  } catch (err) {
    if (!(err instanceof EnvironmentError)) throw err;
    return { end: { state: "failed", infra: "environment_error", reason: err.message } };
  }
  transcript.redactor.add([...Object.values(environment.env), ...mcp.secrets]);
  for (const message of environment.warnings ?? []) await transcript.record({ type: "warning", message });
  if (work.filtered?.length) await transcript.record({ type: "filtered", items: work.filtered });
  return { next: { adapter, environment, mcp } };
}

/**
 * The workspace: the session's private HOME and TMP, then for each repository the forge's
 * copy mirrored, a `--shared` clone of the mirror and the session branch (an existing PR's
 * head when continuing one). Stores the workspace path, repository, branch and base.
 *
 * @returns the workspace, or the end `workspace_error`.
 */
export async function prepareWorkspace(ctx: SessionContext): Promise<PhaseResult<SessionWorkspace>> {
  if (ctx.req.followUp) return reuseWorkspace(ctx, ctx.req.followUp.parent);
  const { project, routine, work, id, db } = ctx;
  const sessionDir = join(project.stateDir, "sessions", id);
  const home = join(sessionDir, "home");
  const tmp = join(sessionDir, "tmp");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const branch = work.pullRequest
    ? work.pullRequest.head
    : work.branch
      ? work.branch(id)
      : `${routine.branch_prefix}${routine.name}-${id}`;
  const repos = resolveRepos(project.root, routine.repos, project.repoName);
  const gitEnv = await project.forge.gitEnv?.();
  const clones: SessionClone[] = [];
  try {
    for (const repo of repos) {
      const forgeRepo = await project.forge.repo(repo.name);
      // Continuing a PR (on the first repository): the mirror must have its head.
      const continuing = work.pullRequest && clones.length === 0 ? work.pullRequest : undefined;
      const mirror = await updateMirror(
        join(project.stateDir, "mirrors"),
        repo.name,
        forgeRepo.remoteUrl,
        continuing
          ? { ref: `refs/heads/${continuing.head}`, sha: continuing.headSha }
          : forgeRepo.defaultBranchSha
            ? { ref: `refs/heads/${forgeRepo.defaultBranch}`, sha: forgeRepo.defaultBranchSha }
            : undefined,
        gitEnv,
      );
      const dest = join(sessionDir, "workspace", repo.name);
      const clone = await cloneWorkspace({
        mirror,
        remoteUrl: forgeRepo.remoteUrl,
        dest,
        base: forgeRepo.defaultBranch,
        ...(forgeRepo.defaultBranchSha ? { baseSha: forgeRepo.defaultBranchSha } : {}),
        branch,
        ...(continuing ? { existingBranch: true } : {}),
        runnerGitDir: join(sessionDir, "git", `${repo.name}.git`),
      });
      clones.push({
        name: repo.name,
        path: dest,
        runner: clone.runner,
        mirror,
        baseSha: clone.baseSha,
        baseBranch: forgeRepo.defaultBranch,
        remoteUrl: forgeRepo.remoteUrl,
      });
    }
  } catch (err) {
    await updateSession(db, id, { workspace_path: sessionDir });
    return {
      end: {
        state: "failed",
        infra: "workspace_error",
        reason: `could not prepare the workspace: ${(err as Error).message}`,
      },
    };
  }
  const primary = clones[0]!;
  await updateSession(db, id, {
    workspace_path: sessionDir,
    repo: primary.name,
    branch,
    base_branch: primary.baseBranch,
    base_sha: primary.baseSha,
  });
  const cwd = clones.length === 1 ? primary.path : join(sessionDir, "workspace");
  return { next: { sessionDir, home, tmp, branch, clones, primary, cwd } };
}

/**
 * A follow-up's workspace: its parent's, as the parent left it — the same folder, private HOME
 * and TMP (the agent CLI's conversation files are there), the same clones and branch; no new
 * clone, no fetch. Each clone starts from where the runner's own git dir has the branch (the
 * commit the parent delivered). Stores the workspace, repository, branch and that start.
 *
 * @returns the workspace, or the end `workspace_error` when the parent's workspace is gone.
 */
async function reuseWorkspace(
  ctx: SessionContext,
  parent: Pick<SessionRow, "id" | "workspace_path" | "branch" | "base_branch" | "pr_number">,
): Promise<PhaseResult<SessionWorkspace>> {
  const { project, routine, id, db } = ctx;
  const fail = (reason: string): PhaseResult<SessionWorkspace> => ({
    end: { state: "failed", infra: "workspace_error", reason },
  });
  const sessionDir = parent.workspace_path;
  const branch = parent.branch;
  if (!sessionDir || !branch || !existsSync(join(sessionDir, "workspace")))
    return fail(`session ${parent.id} has no workspace left to continue (it was removed, or never prepared)`);
  const home = join(sessionDir, "home");
  const tmp = join(sessionDir, "tmp");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const repos = resolveRepos(project.root, routine.repos, project.repoName);
  const clones: SessionClone[] = [];
  try {
    for (const repo of repos) {
      const dest = join(sessionDir, "workspace", repo.name);
      const runner: RunnerRepo = { gitDir: join(sessionDir, "git", `${repo.name}.git`), workTree: dest };
      if (!existsSync(runner.gitDir) || !existsSync(dest))
        return fail(`session ${parent.id}'s workspace has no clone of "${repo.name}" to continue`);
      const forgeRepo = await project.forge.repo(repo.name);
      const baseSha = await runnerGit(runner, ["rev-parse", "--verify", `refs/heads/${branch}^{commit}`]);
      // The runner's git dir borrows the mirror's objects: its alternates file names them.
      const alternates = readFileSync(join(runner.gitDir, "objects", "info", "alternates"), "utf8").trim();
      clones.push({
        name: repo.name,
        path: dest,
        runner,
        mirror: dirname(alternates.split("\n")[0]!),
        baseSha,
        baseBranch: clones.length === 0 && parent.base_branch ? parent.base_branch : forgeRepo.defaultBranch,
        remoteUrl: forgeRepo.remoteUrl,
      });
    }
  } catch (err) {
    return fail(`could not reopen session ${parent.id}'s workspace: ${(err as Error).message}`);
  }
  const primary = clones[0]!;
  await updateSession(db, id, {
    workspace_path: sessionDir,
    repo: primary.name,
    branch,
    base_branch: primary.baseBranch,
    base_sha: primary.baseSha,
    // The conversation's PR from the start: a follow-up of this one continues it even if this one never delivers.
    pr_number: parent.pr_number,
  });
  const cwd = clones.length === 1 ? primary.path : join(sessionDir, "workspace");
  return { next: { sessionDir, home, tmp, branch, clones, primary, cwd } };
}
