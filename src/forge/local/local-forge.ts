import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely, Selectable } from "kysely";
import type {
  Database,
  ForgeChecksTable,
  ForgeCommentsTable,
  ForgeIssuesTable,
  ForgePullRequestsTable,
} from "../../store/schema.ts";
import {
  insertComment,
  insertIssue,
  insertPullRequest,
  insertReviewThread,
  selectCheck,
  selectChecks,
  selectComments,
  selectIssue,
  selectIssues,
  selectPullRequest,
  selectPullRequests,
  selectReviewComments,
  selectReviewThread,
  selectReviewThreads,
  updateIssueState,
  updatePullRequest,
  updateReviewThread,
  upsertCheck,
} from "../../store/forge-items.ts";
import type { Clock } from "../../util/clock.ts";
import { git, GitError, gitMaybe } from "../../util/git.ts";
import { serialised } from "../../util/serialised.ts";
import {
  type CheckResult,
  type Comment,
  type Forge,
  ForgeError,
  NIGHTSHIFT_AUTHOR,
  type ForgeRepo,
  type Issue,
  type NewIssue,
  type NewPullRequest,
  type PullRequest,
  type PullRequestStatus,
  type ReviewThread,
  type UpdateBranchResult,
} from "../types.ts";
import { CI_OUTPUT_BYTES, type CiConfinement, runCiCommand, tailBytes } from "./ci-command.ts";
import { mergeTree } from "./merge-tree.ts";

/** A repository the local forge hosts: its name and the working repository it publishes. */
export interface LocalSource {
  name: string;
  /** The user's repository on disk; its base branch is published to the forge before each session. */
  path: string;
  /** Base branch; defaults to the source's current branch. */
  base?: string;
}

export const LOCAL_BOT = NIGHTSHIFT_AUTHOR;

/** The local forge merges at once, so an update always knows the new head. */
export type LocalUpdateBranchResult =
  { updated: true; headSha: string } | Extract<UpdateBranchResult, { updated: false }>;

/** Name of the check the local CI (`forge.ci`) reports, as a workflow job would on GitHub. */
export const CI_CHECK = "ci";

/** Conclusions that let a pull request merge (GitHub treats `neutral` and `skipped` as passing). */
const PASSING = new Set(["success", "neutral", "skipped"]);

/** Options of {@link LocalForge}. Durations are ms. */
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

/** A line comment to add to a pull request's review: a new thread, or a reply when `threadId` is set. */
export interface NewReviewComment {
  author: string;
  body: string;
  /** File path in the diff; required for a new thread. */
  path?: string;
  /** Line in the file at the head commit; required for a new thread (1-based). */
  line?: number;
  /** Reply to this thread instead of starting one. */
  threadId?: string;
}

/**
 * The embedded forge: one bare repository per project repository under `dir` plays the role
 * of the remote, and issues, pull requests and comments live in the store. `repo()` publishes
 * the source's base branch into the bare repository, so sessions start from the user's latest
 * commit, as they would from `origin` on a hosted forge.
 */
export class LocalForge implements Forge {
  readonly kind = "local" as const;
  readonly #db: Kysely<Database>;
  readonly #dir: string;
  readonly #sources: Map<string, LocalSource>;
  readonly #clock: Clock;
  readonly #ci: string | undefined;
  readonly #ciTimeoutMs: number;
  readonly #ciConfine: CiConfinement | undefined;
  readonly #identity: { name: string; email: string };

  constructor(opts: LocalForgeOptions) {
    this.#db = opts.db;
    this.#dir = opts.dir;
    this.#sources = new Map(opts.sources.map((s) => [s.name, s]));
    this.#clock = opts.clock;
    this.#ci = opts.ci;
    this.#ciTimeoutMs = opts.ciTimeoutMs ?? 600_000;
    this.#ciConfine = opts.ciConfine;
    this.#identity = opts.identity ?? { name: "nightshift", email: "nightshift@localhost" };
  }

  /** The CI command this forge runs on pull requests, if the project set one. */
  get ci(): string | undefined {
    return this.#ci;
  }

  /** Path of the bare repository that holds `name`. */
  barePath(name: string): string {
    return join(this.#dir, `${name}.git`);
  }

  /**
   * Creates the bare repository if needed and publishes the source's base branch into it.
   * @throws {ForgeError} when the repository is not one of the project's, or has no commit.
   */
  repo(name: string): Promise<ForgeRepo> {
    return serialised(`forge:${this.barePath(name)}`, () => this.#publish(name));
  }

  async #publish(name: string): Promise<ForgeRepo> {
    const source = this.#sources.get(name);
    const bare = this.barePath(name);
    if (!source) {
      if (existsSync(bare)) {
        const head = await git(bare, ["symbolic-ref", "--short", "HEAD"]);
        return { name, remoteUrl: bare, defaultBranch: head };
      }
      throw new ForgeError(
        `local forge: no repository "${name}" (known: ${[...this.#sources.keys()].join(", ")})`,
      );
    }
    if (!existsSync(source.path)) {
      throw new ForgeError(
        `local forge: repository ${source.path} does not exist; fix the path in the routine's repos (relative to the project root) or remove the entry`,
      );
    }
    const base = source.base ?? (await gitMaybe(source.path, ["symbolic-ref", "--short", "HEAD"])) ?? "main";
    const sha = await gitMaybe(source.path, [
      "rev-parse",
      "--verify",
      "--quiet",
      `refs/heads/${base}^{commit}`,
    ]);
    if (!sha) {
      throw new ForgeError(
        `local forge: ${source.path} has no commit on branch "${base}"; commit something first (git commit) or set repos[].base`,
      );
    }
    if (!existsSync(join(bare, "HEAD"))) {
      mkdirSync(bare, { recursive: true });
      await git(bare, ["init", "--quiet", "--bare", `--initial-branch=${base}`]);
    }
    // Publish the user's base branch (forced: the source is the truth for its own branch),
    // unless the forge already has that commit there.
    const published = await gitMaybe(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${base}`]);
    if (published !== sha) {
      await git(bare, [
        "fetch",
        "--quiet",
        "--no-tags",
        source.path,
        `+refs/heads/${base}:refs/heads/${base}`,
      ]);
    }
    if (readFileSync(join(bare, "HEAD"), "utf8").trim() !== `ref: refs/heads/${base}`) {
      await git(bare, ["symbolic-ref", "HEAD", `refs/heads/${base}`]);
    }
    return { name, remoteUrl: bare, defaultBranch: base, defaultBranchSha: sha };
  }

  async createIssue(repo: string, issue: NewIssue): Promise<Issue> {
    const now = this.#clock.now();
    const row = await insertIssue(this.#db, {
      repo,
      title: issue.title,
      body: issue.body,
      author: issue.author,
      labels: JSON.stringify(issue.labels ?? []),
      state: "open",
      created_at: now,
      updated_at: now,
    });
    return toIssue(row);
  }

  async getIssue(repo: string, number: number): Promise<Issue> {
    const row = await selectIssue(this.#db, repo, number);
    if (!row)
      throw new ForgeError(`local forge: ${repo} has no issue #${number} (see \`nightshift issue list\`)`);
    return toIssue(row);
  }

  async listIssues(repo: string, opts: { state?: "open" | "closed" | "all" } = {}): Promise<Issue[]> {
    return (await selectIssues(this.#db, repo, opts.state ?? "open")).map(toIssue);
  }

  /**
   * Closes or reopens an issue.
   * @throws {ForgeError} when there is no such issue.
   */
  async setIssueState(repo: string, number: number, state: "open" | "closed"): Promise<void> {
    if (!(await updateIssueState(this.#db, repo, number, state, this.#clock.now())))
      throw new ForgeError(`local forge: ${repo} has no issue #${number} (see \`nightshift issue list\`)`);
  }

  /**
   * Opens a pull request from `head` into `base`; both branches must exist on the forge.
   * `labels` is a local-forge extra (GitHub adds labels in a second call).
   * @throws {ForgeError} when a branch is missing.
   */
  async createPullRequest(repo: string, pr: NewPullRequest & { labels?: string[] }): Promise<PullRequest> {
    const bare = this.barePath(repo);
    for (const ref of [pr.head, pr.base]) {
      if (!(await gitMaybe(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${ref}`]))) {
        throw new ForgeError(
          `local forge: cannot open a pull request on ${repo}: branch "${ref}" does not exist`,
        );
      }
    }
    const now = this.#clock.now();
    const row = await insertPullRequest(this.#db, {
      repo,
      title: pr.title,
      body: pr.body,
      author: LOCAL_BOT,
      head: pr.head,
      base: pr.base,
      draft: pr.draft ? 1 : 0,
      state: "open",
      session_id: pr.sessionId,
      labels: JSON.stringify(pr.labels ?? []),
      created_at: now,
      updated_at: now,
    });
    return toPullRequest(row, await this.#branchTips(repo));
  }

  async getPullRequest(repo: string, number: number): Promise<PullRequest> {
    await this.#settleMerged(repo);
    return toPullRequest(await this.#pullRequestRow(repo, number), await this.#branchTips(repo));
  }

  async listPullRequests(
    repo: string,
    opts: { state?: "open" | "closed" | "merged" | "all" } = {},
  ): Promise<PullRequest[]> {
    await this.#settleMerged(repo);
    const rows = await selectPullRequests(this.#db, repo, opts.state ?? "open");
    if (rows.length === 0) return [];
    const tips = await this.#branchTips(repo);
    return rows.map((r) => toPullRequest(r, tips));
  }

  /**
   * Replaces the labels of a pull request.
   * @throws {ForgeError} when there is no such pull request.
   */
  async setPullRequestLabels(repo: string, number: number, labels: string[]): Promise<void> {
    await this.#pullRequestRow(repo, number);
    await updatePullRequest(this.#db, repo, number, {
      labels: JSON.stringify([...new Set(labels)]),
      updated_at: this.#clock.now(),
    });
  }

  async pullRequestDiff(repo: string, number: number): Promise<string> {
    const pr = await this.getPullRequest(repo, number);
    return git(this.barePath(repo), ["diff", `refs/heads/${pr.base}...refs/heads/${pr.head}`]);
  }

  async addComment(
    repo: string,
    number: number,
    comment: { author: string; body: string },
  ): Promise<Comment> {
    const row = await insertComment(this.#db, {
      repo,
      number,
      author: comment.author,
      body: comment.body,
      thread_id: null,
      created_at: this.#clock.now(),
    });
    return toComment(row);
  }

  async listComments(repo: string, number: number): Promise<Comment[]> {
    return (await selectComments(this.#db, repo, number)).map(toComment);
  }

  /**
   * Every open pull request (or those in `numbers`) with what the guard and the judge decide
   * on, computed with git in the bare repository:
   * - `mergeable`: `git merge-tree --write-tree <base> <head>` merges cleanly (git ≥ 2.38);
   * - `behindBy`: `git rev-list --count <head>..<base>`;
   * - diff size: `git diff --numstat <base>...<head>` (binary files count as changed files only);
   * - `checks`: those recorded for the head commit; with `forge.ci` set and no `ci` result
   *   yet, a `queued` required `ci` check;
   * - `mergeState`, first that applies: `draft`; `dirty` (conflicts); `behind`; `unstable`
   *   (a completed check concluded other than `success`/`neutral`/`skipped`); `blocked` (a
   *   required check has not completed); `clean`. (GitHub says `blocked` rather than
   *   `unstable` when the failing check is required; the checks themselves tell both apart.)
   * A PR whose head or base branch is gone reports `mergeable: null`, `mergeState: "unknown"`.
   *
   * @throws {ForgeError} when git is older than 2.38.
   */
  async listPullRequestStatuses(
    repo: string,
    opts: { numbers?: number[] } = {},
  ): Promise<PullRequestStatus[]> {
    await this.#settleMerged(repo);
    let rows = await selectPullRequests(this.#db, repo, "open");
    if (opts.numbers) {
      const wanted = new Set(opts.numbers);
      rows = rows.filter((r) => wanted.has(r.number));
    }
    if (rows.length === 0) return [];
    const bare = this.barePath(repo);
    const tips = await this.#branchTips(repo);
    const shas = rows.map((r) => tips.get(r.head)).filter((s): s is string => s !== undefined);
    const checks = new Map<string, CheckResult[]>();
    for (const c of await selectChecks(this.#db, repo, shas)) {
      const list = checks.get(c.sha) ?? [];
      list.push(toCheck(c));
      checks.set(c.sha, list);
    }
    return mapLimit(rows, 8, (r) => this.#status(bare, r, tips, checks));
  }

  async #status(
    bare: string,
    r: Selectable<ForgePullRequestsTable>,
    tips: Map<string, string>,
    checksBySha: Map<string, CheckResult[]>,
  ): Promise<PullRequestStatus> {
    const headSha = tips.get(r.head);
    const baseSha = tips.get(r.base);
    const checks = headSha ? [...(checksBySha.get(headSha) ?? [])] : [];
    if (headSha && this.#ci && !checks.some((c) => c.name === CI_CHECK))
      checks.push({ name: CI_CHECK, status: "queued", conclusion: null, required: true });
    checks.sort((a, b) => a.name.localeCompare(b.name));
    const base = {
      repo: r.repo,
      number: r.number,
      title: r.title,
      author: r.author,
      head: r.head,
      base: r.base,
      headSha: headSha ?? "",
      draft: r.draft === 1,
      checks,
      labels: JSON.parse(r.labels) as string[],
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
    if (!headSha || !baseSha) {
      return {
        ...base,
        mergeable: null,
        mergeState: "unknown",
        behindBy: null,
        additions: 0,
        deletions: 0,
        changedFiles: 0,
      };
    }
    const [merge, behind, numstat] = await Promise.all([
      mergeTree(bare, baseSha, headSha),
      git(bare, ["rev-list", "--count", `${headSha}..${baseSha}`]),
      gitMaybe(bare, ["diff", "--numstat", `${baseSha}...${headSha}`]),
    ]);
    const behindBy = Number(behind);
    const size = diffSize(numstat ?? "");
    const mergeState =
      r.draft === 1
        ? "draft"
        : !merge.clean
          ? "dirty"
          : behindBy > 0
            ? "behind"
            : checks.some((c) => c.status === "completed" && !PASSING.has(c.conclusion ?? ""))
              ? "unstable"
              : checks.some((c) => c.required && c.status !== "completed")
                ? "blocked"
                : "clean";
    return { ...base, mergeable: merge.clean, mergeState, behindBy, ...size };
  }

  /**
   * Records a check on commit `sha` (GitHub's check run), replacing an earlier result with the
   * same name: for users who run their own CI, and for the local CI. `output` keeps its last
   * 64 KiB. Start time: now for `in_progress`, kept when an `in_progress` check completes.
   *
   * @throws {ForgeError} when `sha` is not a full commit id or a completed check has no conclusion.
   */
  async recordCheck(repo: string, sha: string, check: CheckResult): Promise<void> {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha))
      throw new ForgeError(
        `local forge: a check needs a full commit id, got "${sha}" (see \`git rev-parse\`)`,
      );
    if (check.status === "completed" && !check.conclusion)
      throw new ForgeError(`local forge: completed check "${check.name}" on ${sha} needs a conclusion`);
    const now = this.#clock.now();
    const prev = await selectCheck(this.#db, repo, sha, check.name);
    const startedAt =
      check.status === "queued"
        ? null
        : check.status === "completed" && prev?.status === "in_progress"
          ? prev.started_at
          : now;
    await upsertCheck(this.#db, {
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
  async listChecks(repo: string, sha: string): Promise<CheckResult[]> {
    return (await selectChecks(this.#db, repo, [sha])).map(toCheck);
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
  async runChecks(repo: string, number: number): Promise<CheckResult> {
    const ci = this.#ci;
    if (!ci)
      throw new ForgeError(
        "local forge: no CI command configured; set forge.ci in .nightshift/config.yaml (e.g. `ci: npm test`)",
      );
    const pr = await this.getPullRequest(repo, number);
    if (!pr.headSha)
      throw new ForgeError(`local forge: pull request #${number} of ${repo}: branch "${pr.head}" is gone`);
    const sha = pr.headSha;
    return serialised(`forge-ci:${this.barePath(repo)}:${sha}`, () => this.#runCi(repo, pr, sha, ci));
  }

  async #runCi(repo: string, pr: PullRequest, sha: string, ci: string): Promise<CheckResult> {
    // The deadline starts before the in_progress record, so whoever sees that record can
    // move a manual clock past it.
    const deadline = new AbortController();
    const cancelTimer = this.#clock.setTimer(this.#ciTimeoutMs, () => deadline.abort());
    const dir = mkdtempSync(join(tmpdir(), "nightshift-ci-"));
    try {
      await this.recordCheck(repo, sha, {
        name: CI_CHECK,
        status: "in_progress",
        conclusion: null,
        required: true,
      });
      const work = join(dir, repo);
      await git(dir, ["clone", "--quiet", "--shared", "--no-checkout", this.barePath(repo), work]);
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
        clock: this.#clock,
        signal: deadline.signal,
        ...(this.#ciConfine
          ? { confine: this.#ciConfine, scratch, objects: join(this.barePath(repo), "objects") }
          : {}),
      });
      const conclusion = r.aborted ? "timed_out" : r.exitCode === 0 ? "success" : "failure";
      const how = r.spawnError
        ? r.spawnError
        : r.aborted
          ? `timed out after ${this.#ciTimeoutMs} ms (forge.ci_timeout)`
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
      await this.recordCheck(repo, sha, result);
      return result;
    } catch (err) {
      const result: CheckResult = {
        name: CI_CHECK,
        status: "completed",
        conclusion: "startup_failure",
        required: true,
        output: `nightshift could not prepare the CI run: ${err instanceof Error ? err.message : String(err)}`,
      };
      await this.recordCheck(repo, sha, result);
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
  async runPendingChecks(repo: string): Promise<{ number: number; headSha: string; check: CheckResult }[]> {
    if (!this.#ci) return [];
    const done: { number: number; headSha: string; check: CheckResult }[] = [];
    for (const pr of await this.listPullRequests(repo, { state: "open" })) {
      if (!pr.headSha) continue;
      const prev = await selectCheck(this.#db, repo, pr.headSha, CI_CHECK);
      const stale =
        prev?.status !== "completed" &&
        prev?.started_at != null &&
        this.#clock.now() - Number(prev.started_at) > this.#ciTimeoutMs + 60_000;
      if (prev && prev.status !== "queued" && !stale) continue;
      done.push({ number: pr.number, headSha: pr.headSha, check: await this.runChecks(repo, pr.number) });
    }
    return done;
  }

  /**
   * Review threads of a pull request with their comments, oldest first.
   * @throws {ForgeError} when there is no such pull request.
   */
  async listReviewThreads(repo: string, number: number): Promise<ReviewThread[]> {
    await this.#pullRequestRow(repo, number);
    const threads = await selectReviewThreads(this.#db, repo, number);
    const comments = await selectReviewComments(this.#db, repo, number);
    return threads.map((t) => ({
      id: t.id,
      resolved: t.resolved === 1,
      path: t.path,
      line: t.line,
      comments: comments.filter((c) => c.thread_id === t.id).map(toComment),
    }));
  }

  /**
   * Adds a line comment to a pull request's review: a new thread at `path`:`line`, or a reply
   * in `threadId`'s thread.
   *
   * @returns the thread with the new comment.
   * @throws {ForgeError} when the PR or thread does not exist, or a new thread lacks a path or a positive line.
   */
  async addReviewComment(repo: string, number: number, c: NewReviewComment): Promise<ReviewThread> {
    await this.#pullRequestRow(repo, number);
    const now = this.#clock.now();
    let threadId = c.threadId;
    if (threadId) {
      const t = await selectReviewThread(this.#db, repo, threadId);
      if (!t || t.number !== number)
        throw new ForgeError(
          `local forge: pull request #${number} of ${repo} has no review thread ${threadId}`,
        );
    } else {
      if (!c.path || c.line === undefined || !Number.isInteger(c.line) || c.line <= 0)
        throw new ForgeError(
          `local forge: a review comment on #${number} needs a file path and a line number ≥ 1 (or a thread to reply to)`,
        );
      threadId = (
        await insertReviewThread(this.#db, {
          repo,
          number,
          path: c.path,
          line: c.line,
          resolved: 0,
          created_at: now,
          resolved_at: null,
        })
      ).id;
    }
    await insertComment(this.#db, {
      repo,
      number,
      author: c.author,
      body: c.body,
      thread_id: threadId,
      created_at: now,
    });
    const thread = (await this.listReviewThreads(repo, number)).find((t) => t.id === threadId);
    return thread!;
  }

  /**
   * Marks a review thread resolved (GitHub `resolveReviewThread`), or unresolved again with
   * `resolved: false`.
   * @throws {ForgeError} when there is no such thread.
   */
  async resolveReviewThread(repo: string, threadId: string, resolved = true): Promise<void> {
    if (!(await updateReviewThread(this.#db, repo, threadId, resolved, this.#clock.now())))
      throw new ForgeError(`local forge: ${repo} has no review thread ${threadId}`);
  }

  /**
   * Marks an open pull request draft or ready for review.
   * @throws {ForgeError} when there is no such PR or it is not open (GitHub refuses too).
   */
  async setDraft(repo: string, number: number, draft: boolean): Promise<void> {
    await this.#settleMerged(repo);
    const row = await this.#pullRequestRow(repo, number);
    if (row.state !== "open")
      throw new ForgeError(
        `local forge: pull request #${number} of ${repo} is ${row.state}; only open pull requests can be marked ${draft ? "draft" : "ready"}`,
      );
    if ((row.draft === 1) === draft) return;
    await updatePullRequest(this.#db, repo, number, { draft: draft ? 1 : 0, updated_at: this.#clock.now() });
  }

  /**
   * Closes a pull request without merging; closing a closed one does nothing.
   * @throws {ForgeError} when there is no such PR or it was merged.
   */
  async closePullRequest(repo: string, number: number): Promise<void> {
    await this.#settleMerged(repo);
    const row = await this.#pullRequestRow(repo, number);
    if (row.state === "closed") return;
    if (row.state === "merged")
      throw new ForgeError(`local forge: pull request #${number} of ${repo} is merged and cannot be closed`);
    await updatePullRequest(this.#db, repo, number, { state: "closed", updated_at: this.#clock.now() });
  }

  /**
   * Brings a pull request's head up to date with its base by a merge commit, as GitHub's
   * update-branch does: the tree from `git merge-tree --write-tree <head> <base>`, a commit
   * with parents head and base ("Merge branch '<base>' into <head>"), and
   * `git update-ref refs/heads/<head> <new> <expectedHeadSha>`, which refuses if the head moved
   * meanwhile. Never a rebase, never a force. Serialised with publishing on the repository.
   *
   * @returns `updated` with the new head, or why not: `head_moved` (the head is not
   *   `expectedHeadSha`), `up_to_date` (the head has every base commit), `conflict`.
   * @throws {ForgeError} when there is no such PR, it is not open, or a branch is gone.
   */
  updateBranch(repo: string, number: number, expectedHeadSha: string): Promise<LocalUpdateBranchResult> {
    return serialised(`forge:${this.barePath(repo)}`, () =>
      this.#updateBranch(repo, number, expectedHeadSha),
    );
  }

  async #updateBranch(repo: string, number: number, expected: string): Promise<LocalUpdateBranchResult> {
    await this.#settleMerged(repo);
    const row = await this.#pullRequestRow(repo, number);
    if (row.state !== "open")
      throw new ForgeError(
        `local forge: pull request #${number} of ${repo} is ${row.state}; cannot update its branch`,
      );
    const bare = this.barePath(repo);
    const tips = await this.#branchTips(repo);
    const head = tips.get(row.head);
    const base = tips.get(row.base);
    if (!head || !base)
      throw new ForgeError(
        `local forge: pull request #${number} of ${repo}: branch "${head ? row.base : row.head}" is gone`,
      );
    if (head !== expected)
      return {
        updated: false,
        reason: "head_moved",
        detail: `${row.head} is at ${head}, not the expected ${expected}`,
      };
    const behind = Number(await git(bare, ["rev-list", "--count", `${head}..${base}`]));
    if (behind === 0)
      return { updated: false, reason: "up_to_date", detail: `${row.head} already contains ${row.base}` };
    const merge = await mergeTree(bare, head, base);
    if (!merge.clean) {
      const both = await this.#changedOnBothSides(bare, head, base);
      return {
        updated: false,
        reason: "conflict",
        detail: `merging ${row.base} into ${row.head}: ${merge.detail}${both.length ? ` (files changed on both sides: ${both.join(", ")})` : ""}`,
      };
    }
    const date = `@${Math.floor(this.#clock.now() / 1000)} +0000`;
    const env: Record<string, string> = {};
    for (const role of ["AUTHOR", "COMMITTER"]) {
      env[`GIT_${role}_NAME`] = process.env[`GIT_${role}_NAME`] ?? this.#identity.name;
      env[`GIT_${role}_EMAIL`] = process.env[`GIT_${role}_EMAIL`] ?? this.#identity.email;
      env[`GIT_${role}_DATE`] = process.env[`GIT_${role}_DATE`] ?? date;
    }
    const commit = await git(
      bare,
      [
        "commit-tree",
        merge.tree,
        "-p",
        head,
        "-p",
        base,
        "-m",
        `Merge branch '${row.base}' into ${row.head}`,
      ],
      { env },
    );
    try {
      await git(bare, [
        "update-ref",
        "-m",
        `nightshift: update branch of #${number}`,
        `refs/heads/${row.head}`,
        commit,
        head,
      ]);
    } catch (err) {
      const now = await gitMaybe(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${row.head}`]);
      if (err instanceof GitError && now !== head)
        return {
          updated: false,
          reason: "head_moved",
          detail: `${row.head} moved to ${now ?? "nothing"} while merging; expected ${head}`,
        };
      throw err;
    }
    await updatePullRequest(this.#db, repo, number, { updated_at: this.#clock.now() });
    return { updated: true, headSha: commit };
  }

  /**
   * Marks merged, in the store, every open pull request whose head commit is reachable from
   * its base: someone merged it by hand (GitHub does the same when a PR's commits land on its
   * base by a push). The base is the forge's branch or, when that is older, the source
   * repository's branch of the same name, which the forge publishes only before a session:
   * a merge made in your repository counts at once. A PR whose head branch is gone cannot be
   * told apart and stays open. Merged is final, as on GitHub.
   */
  async #settleMerged(repo: string): Promise<void> {
    const rows = await selectPullRequests(this.#db, repo, "open");
    if (rows.length === 0) return;
    const bare = this.barePath(repo);
    const tips = await this.#branchTips(repo);
    const source = this.#sources.get(repo);
    const sourceTips = new Map<string, string | undefined>();
    const sourceTip = async (base: string) => {
      if (!source || !existsSync(source.path)) return undefined;
      if (!sourceTips.has(base))
        sourceTips.set(
          base,
          await gitMaybe(source.path, ["rev-parse", "--verify", "--quiet", `refs/heads/${base}^{commit}`]),
        );
      return sourceTips.get(base);
    };
    const reachable = async (cwd: string, head: string, base: string | undefined) =>
      base !== undefined &&
      (head === base ||
        (await git(cwd, ["merge-base", "--is-ancestor", head, base]).then(
          () => true,
          () => false,
        )));
    const merged = await mapLimit(rows, 8, async (r) => {
      const head = tips.get(r.head);
      if (!head) return false;
      if (await reachable(bare, head, tips.get(r.base))) return true;
      const mine = await sourceTip(r.base);
      // The source may not have the head commit at all: then it was not merged there.
      return mine !== undefined && mine !== tips.get(r.base) && (await reachable(source!.path, head, mine));
    });
    const now = this.#clock.now();
    for (const [i, r] of rows.entries())
      if (merged[i]) await updatePullRequest(this.#db, repo, r.number, { state: "merged", updated_at: now });
  }

  async #changedOnBothSides(bare: string, head: string, base: string): Promise<string[]> {
    const names = async (a: string, b: string) =>
      new Set(
        ((await gitMaybe(bare, ["diff", "--name-only", `${a}...${b}`])) ?? "").split("\n").filter(Boolean),
      );
    const [ours, theirs] = await Promise.all([names(base, head), names(head, base)]);
    return [...ours].filter((f) => theirs.has(f)).sort();
  }

  async #pullRequestRow(repo: string, number: number): Promise<Selectable<ForgePullRequestsTable>> {
    const row = await selectPullRequest(this.#db, repo, number);
    if (!row)
      throw new ForgeError(
        `local forge: ${repo} has no pull request #${number} (see \`nightshift pr list\`)`,
      );
    return row;
  }

  /** Branch name → commit of every branch in the bare repository (one `git for-each-ref`). */
  async #branchTips(repo: string): Promise<Map<string, string>> {
    const bare = this.barePath(repo);
    const tips = new Map<string, string>();
    if (!existsSync(join(bare, "HEAD"))) return tips;
    const out = await git(bare, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"]);
    for (const line of out.split("\n")) {
      const space = line.indexOf(" ");
      if (space > 0) tips.set(line.slice(space + 1).replace(/^refs\/heads\//, ""), line.slice(0, space));
    }
    return tips;
  }
}

/** Additions, deletions and files of `git diff --numstat` output (binary files: `-` counts). */
function diffSize(numstat: string): { additions: number; deletions: number; changedFiles: number } {
  let additions = 0;
  let deletions = 0;
  let changedFiles = 0;
  for (const line of numstat.split("\n")) {
    const [a, d] = line.split("\t");
    if (a === undefined || d === undefined) continue;
    changedFiles++;
    additions += Number(a) || 0;
    deletions += Number(d) || 0;
  }
  return { additions, deletions, changedFiles };
}

/** Maps `items` with at most `limit` calls of `fn` at a time, keeping the order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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

function toIssue(r: Selectable<ForgeIssuesTable>): Issue {
  return {
    repo: r.repo,
    number: r.number,
    title: r.title,
    body: r.body,
    author: r.author,
    labels: JSON.parse(r.labels) as string[],
    state: r.state,
    createdAt: Number(r.created_at),
  };
}

function toPullRequest(r: Selectable<ForgePullRequestsTable>, tips: Map<string, string>): PullRequest {
  const headSha = tips.get(r.head);
  return {
    repo: r.repo,
    number: r.number,
    title: r.title,
    body: r.body,
    author: r.author,
    head: r.head,
    base: r.base,
    draft: r.draft === 1,
    state: r.state,
    sessionId: r.session_id,
    ...(headSha ? { headSha } : {}),
    labels: JSON.parse(r.labels) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toComment(r: Selectable<ForgeCommentsTable>): Comment {
  return {
    id: r.id,
    repo: r.repo,
    number: r.number,
    author: r.author,
    body: r.body,
    createdAt: Number(r.created_at),
  };
}

function toCheck(r: Selectable<ForgeChecksTable>): CheckResult {
  return {
    name: r.name,
    status: r.status,
    conclusion: r.conclusion,
    required: r.required === 1,
    ...(r.url ? { url: r.url } : {}),
    ...(r.output !== null ? { output: r.output } : {}),
  };
}
