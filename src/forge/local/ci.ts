import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selectCheck, selectChecks, upsertCheck } from "../../store/forge-items.ts";
import { git } from "../../util/git.ts";
import { serialised } from "../../util/serialised.ts";
import { type CheckResult, ForgeError, type PullRequest } from "../types.ts";
import { CI_CHECK, CI_OUTPUT_BYTES, runCiCommand, tailBytes } from "./ci-command.ts";
import { getPullRequest, listPullRequests } from "./items.ts";
import { toCheck } from "./rows.ts";
import { barePath, type LocalForgeState } from "./state.ts";

export { CI_CHECK } from "./ci-command.ts";

/**
 * Records a check on commit `sha` (GitHub's check run), replacing an earlier result with the
 * same name: for users who run their own CI, and for the local CI. `output` keeps its last
 * 64 KiB. Start time: now for `in_progress`, kept when an `in_progress` check completes.
 *
 * @throws {ForgeError} when `sha` is not a full commit id or a completed check has no conclusion.
 */
export async function recordCheck(
  s: LocalForgeState,
  repo: string,
  sha: string,
  check: CheckResult,
): Promise<void> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha))
    throw new ForgeError(`local forge: a check needs a full commit id, got "${sha}" (see \`git rev-parse\`)`);
  if (check.status === "completed" && !check.conclusion)
    throw new ForgeError(`local forge: completed check "${check.name}" on ${sha} needs a conclusion`);
  const now = s.clock.now();
  const prev = await selectCheck(s.db, repo, sha, check.name);
  const startedAt =
    check.status === "queued"
      ? null
      : check.status === "completed" && prev?.status === "in_progress"
        ? prev.started_at
        : now;
  await upsertCheck(s.db, {
    repo,
    sha,
    name: check.name,
    status: check.status,
    conclusion: check.status === "completed" ? check.conclusion : null,
    required: check.required ? 1 : 0,
    output: check.output === undefined ? null : tailBytes(check.output, CI_OUTPUT_BYTES),
    url: check.url ?? null,
    started_at: startedAt,
    completed_at: check.status === "completed" ? now : null,
    updated_at: now,
  });
}

/** Checks recorded on commit `sha`, by name. */
export async function listChecks(s: LocalForgeState, repo: string, sha: string): Promise<CheckResult[]> {
  return (await selectChecks(s.db, repo, [sha])).map(toCheck);
}

/**
 * Runs the project's CI command (`forge.ci`) on pull request `number`'s head commit, as a
 * hosted forge runs a workflow on a push: in a temporary clone of the bare repository
 * checked out at that commit (removed afterwards), with `CI=true` and `NIGHTSHIFT_REPO`,
 * `NIGHTSHIFT_PR`, `NIGHTSHIFT_HEAD_SHA`, `NIGHTSHIFT_BASE` in the environment. It is the
 * user's own CI, so it runs outside any sandbox. The required check `ci` is recorded as
 * `in_progress`, then `completed` with `success` (exit 0), `failure` or `timed_out` (after
 * `ciTimeoutMs`, on the injected clock; the process group is stopped) and the log's last
 * 64 KiB. Runs for one commit never overlap within this process.
 *
 * @returns the completed check.
 * @throws {ForgeError} when no CI command is configured, the PR does not exist or its head branch is gone.
 */
export async function runChecks(s: LocalForgeState, repo: string, number: number): Promise<CheckResult> {
  const ci = s.ci;
  if (!ci)
    throw new ForgeError(
      "local forge: no CI command configured; set forge.ci in .nightshift/config.yaml (e.g. `ci: npm test`)",
    );
  const pr = await getPullRequest(s, repo, number);
  if (!pr.headSha)
    throw new ForgeError(`local forge: pull request #${number} of ${repo}: branch "${pr.head}" is gone`);
  const sha = pr.headSha;
  return serialised(`forge-ci:${barePath(s, repo)}:${sha}`, () => runCi(s, repo, pr, sha, ci));
}

async function runCi(
  s: LocalForgeState,
  repo: string,
  pr: PullRequest,
  sha: string,
  ci: string,
): Promise<CheckResult> {
  // The deadline starts before the in_progress record, so whoever sees that record can
  // move a manual clock past it.
  const deadline = new AbortController();
  const cancelTimer = s.clock.setTimer(s.ciTimeoutMs, () => deadline.abort());
  const dir = mkdtempSync(join(tmpdir(), "nightshift-ci-"));
  try {
    await recordCheck(s, repo, sha, {
      name: CI_CHECK,
      status: "in_progress",
      conclusion: null,
      required: true,
    });
    const work = join(dir, repo);
    await git(dir, ["clone", "--quiet", "--shared", "--no-checkout", barePath(s, repo), work]);
    await git(work, ["checkout", "--quiet", "--detach", sha]);
    // A clean environment: the pull request's code runs here, so none of the runner's
    // variables (forge and model credentials) go with it.
    const scratch = join(dir, "scratch");
    mkdirSync(join(scratch, "home"), { recursive: true });
    mkdirSync(join(scratch, "tmp"), { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: join(scratch, "home"),
      TMPDIR: join(scratch, "tmp"),
      LANG: process.env.LANG ?? "C.UTF-8",
      CI: "true",
      NIGHTSHIFT_REPO: repo,
      NIGHTSHIFT_PR: String(pr.number),
      NIGHTSHIFT_HEAD_SHA: sha,
      NIGHTSHIFT_BASE: pr.base,
    };
    for (const k of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"]) delete env[k];
    const r = await runCiCommand({
      command: ci,
      cwd: work,
      env,
      clock: s.clock,
      signal: deadline.signal,
      ...(s.ciConfine ? { confine: s.ciConfine, scratch, objects: join(barePath(s, repo), "objects") } : {}),
    });
    const conclusion = r.aborted ? "timed_out" : r.exitCode === 0 ? "success" : "failure";
    const how = r.spawnError
      ? r.spawnError
      : r.aborted
        ? `timed out after ${s.ciTimeoutMs} ms (forge.ci_timeout)`
        : r.exitCode !== null
          ? `exit code ${r.exitCode}`
          : `killed by ${r.signal}`;
    const result: CheckResult = {
      name: CI_CHECK,
      status: "completed",
      conclusion,
      required: true,
      output: tailBytes(`${r.output}${r.output && !r.output.endsWith("\n") ? "\n" : ""}[${ci}: ${how}]\n`),
    };
    await recordCheck(s, repo, sha, result);
    return result;
  } catch (err) {
    const result: CheckResult = {
      name: CI_CHECK,
      status: "completed",
      conclusion: "startup_failure",
      required: true,
      output: `nightshift could not prepare the CI run: ${err instanceof Error ? err.message : String(err)}`,
    };
    await recordCheck(s, repo, sha, result);
    return result;
  } finally {
    cancelTimer();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the CI command on every open pull request whose head commit has no `ci` result yet
 * (or one stuck `in_progress` past the CI timeout plus a minute, left by a process that
 * died), one after another: for the daemon and the guard. Does nothing without `forge.ci`.
 *
 * @returns what ran, by pull request number.
 */
export async function runPendingChecks(
  s: LocalForgeState,
  repo: string,
): Promise<{ number: number; headSha: string; check: CheckResult }[]> {
  if (!s.ci) return [];
  const done: { number: number; headSha: string; check: CheckResult }[] = [];
  for (const pr of await listPullRequests(s, repo, { state: "open" })) {
    if (!pr.headSha) continue;
    const prev = await selectCheck(s.db, repo, pr.headSha, CI_CHECK);
    const stale =
      prev?.status !== "completed" &&
      prev?.started_at != null &&
      s.clock.now() - Number(prev.started_at) > s.ciTimeoutMs + 60_000;
    if (prev && prev.status !== "queued" && !stale) continue;
    done.push({ number: pr.number, headSha: pr.headSha, check: await runChecks(s, repo, pr.number) });
  }
  return done;
}
