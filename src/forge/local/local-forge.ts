import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Kysely, Selectable } from "kysely";
import type { Database, ForgeIssuesTable, ForgePullRequestsTable } from "../../store/schema.ts";
import {
  insertComment,
  insertIssue,
  insertPullRequest,
  selectComments,
  selectIssue,
  selectIssues,
  selectPullRequest,
  selectPullRequests,
} from "../../store/forge-items.ts";
import type { Clock } from "../../util/clock.ts";
import { git, gitMaybe } from "../../util/git.ts";
import { serialised } from "../../util/serialised.ts";
import {
  type Comment,
  type Forge,
  ForgeError,
  type ForgeRepo,
  type Issue,
  type NewIssue,
  type NewPullRequest,
  type PullRequest,
} from "../types.ts";

/** A repository the local forge hosts: its name and the working repository it publishes. */
export interface LocalSource {
  name: string;
  /** The user's repository on disk; its base branch is published to the forge before each session. */
  path: string;
  /** Base branch; defaults to the source's current branch. */
  base?: string;
}

export const LOCAL_BOT = "nightshift[bot]";

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

  constructor(opts: { db: Kysely<Database>; dir: string; sources: LocalSource[]; clock: Clock }) {
    this.#db = opts.db;
    this.#dir = opts.dir;
    this.#sources = new Map(opts.sources.map((s) => [s.name, s]));
    this.#clock = opts.clock;
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

  async createPullRequest(repo: string, pr: NewPullRequest): Promise<PullRequest> {
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
      created_at: now,
      updated_at: now,
    });
    return toPullRequest(row);
  }

  async getPullRequest(repo: string, number: number): Promise<PullRequest> {
    const row = await selectPullRequest(this.#db, repo, number);
    if (!row)
      throw new ForgeError(
        `local forge: ${repo} has no pull request #${number} (see \`nightshift pr list\`)`,
      );
    return toPullRequest(row);
  }

  async listPullRequests(
    repo: string,
    opts: { state?: "open" | "closed" | "merged" | "all" } = {},
  ): Promise<PullRequest[]> {
    return (await selectPullRequests(this.#db, repo, opts.state ?? "open")).map(toPullRequest);
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
      created_at: this.#clock.now(),
    });
    return { id: row.id, repo, number, author: row.author, body: row.body, createdAt: row.created_at };
  }

  async listComments(repo: string, number: number): Promise<Comment[]> {
    return (await selectComments(this.#db, repo, number)).map((r) => ({
      id: r.id,
      repo: r.repo,
      number: r.number,
      author: r.author,
      body: r.body,
      createdAt: Number(r.created_at),
    }));
  }
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

function toPullRequest(r: Selectable<ForgePullRequestsTable>): PullRequest {
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
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
