/**
 * A stateful fake of the parts of GitHub nightshift's GitHub adapter calls: REST issues,
 * pulls, comments, update-branch and App installation tokens, and POST /graphql executed
 * against GitHub's real public schema. See README.md in this folder for what it covers and
 * how it stays honest.
 */
import { createPublicKey, verify as verifySignature } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MergeStateStatus } from "@octokit/graphql-schema";
import { type BranchAnalysis, GitStore } from "./git-store.ts";
import { handleGraphql } from "./graphql.ts";
import { handleRest, type RestReply } from "./rest.ts";
import {
  type FakeCheckRun,
  type FakeComment,
  type FakeContext,
  type FakeIssue,
  type FakeItem,
  type FakeProtection,
  type FakePull,
  type FakeRepo,
  type FakeReviewThread,
  type FakeStatus,
  nodeId,
} from "./state.ts";

export interface FakeGithubOptions {
  /** Accepted tokens and the login each acts as. Default `{ "fake-token": "octocat" }`. */
  tokens?: Record<string, string>;
  /** Folder for the bare repositories; default a new temporary folder, removed by `close()`. */
  dir?: string;
  /** Clock for timestamps (ms since the epoch); default `Date.now`. */
  now?: () => number;
}

/** One request the fake received. `operation` is the GraphQL operation name. */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  operation: string | null;
  status: number;
  /** The JSON body of a REST request that had one (`expected_head_sha`, a comment's `body`); not kept for GraphQL. */
  body?: Record<string, unknown>;
  /**
   * For a GraphQL mutation that passed validation: its root fields in document order, one
   * per alias (`["convertPullRequestToDraft", "addComment", …]`), so tests and benchmarks
   * can count the changes a batched document carried.
   */
  mutations?: string[];
  /** For a GraphQL mutation that passed validation: its variables (a batched document's inputs `i0`, `i1`, …). */
  variables?: Record<string, unknown>;
}

interface AppRegistration {
  appId: string;
  publicKey: string;
  installationId: number;
  slug: string;
}

/** Per-request state: the caller and a cache of branch tips per repository. */
export interface RequestContext {
  login: string;
  /** Branch tips per repository, read once per request; a mutation that moves a branch drops its entry. */
  branches: Map<FakeRepo, Promise<Map<string, string>>>;
  /** Set by the GraphQL handler for a valid mutation: its root fields (see {@link RequestLogEntry.mutations}). */
  mutations?: string[];
}

export class FakeGithub {
  /** Base URL, e.g. `http://127.0.0.1:PORT` (REST root; GraphQL at `/graphql`). */
  url = "";
  /** Every request, in arrival order. */
  readonly requests: RequestLogEntry[] = [];
  /** `METHOD path` of requests no route matched (answered 404); tests assert it stays empty. */
  readonly unhandled: string[] = [];
  /** GraphQL documents that failed schema validation, with the errors (the honesty check). */
  readonly rejectedDocuments: { query: string; errors: string[] }[] = [];
  readonly git = new GitStore();
  readonly repos = new Map<string, FakeRepo>();
  readonly tokens: Map<string, string>;
  readonly now: () => number;
  readonly #dir: string;
  readonly #ownsDir: boolean;
  #server: Server | undefined;
  #nextId = 1000;
  #limits: ("primary" | "secondary")[] = [];
  readonly #apps: AppRegistration[] = [];

  private constructor(opts: FakeGithubOptions) {
    this.tokens = new Map(Object.entries(opts.tokens ?? { "fake-token": "octocat" }));
    this.now = opts.now ?? Date.now;
    this.#ownsDir = !opts.dir;
    this.#dir = opts.dir ?? mkdtempSync(join(tmpdir(), "fake-github-"));
  }

  /** Starts a fake on 127.0.0.1 with a free port. */
  static async start(opts: FakeGithubOptions = {}): Promise<FakeGithub> {
    const fake = new FakeGithub(opts);
    const server = createServer((req, res) => {
      fake.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake GitHub bug: ${(err as Error).stack ?? String(err)}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake.#server = server;
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.#ownsDir) rmSync(this.#dir, { recursive: true, force: true });
  }

  nextId(): number {
    return ++this.#nextId;
  }

  // ---------------------------------------------------------------------------------------
  // Test API: set up state directly (no HTTP, nothing logged).

  /** Creates `owner/name` as a bare repository with one commit of `files` on `defaultBranch`. */
  async createRepo(
    fullName: string,
    opts: { defaultBranch?: string; files?: Record<string, string> } = {},
  ): Promise<FakeRepo> {
    const [owner, name] = fullName.split("/");
    if (!owner || !name) throw new Error(`fake GitHub: repository name ${fullName} must be owner/name`);
    const id = this.nextId();
    const repo: FakeRepo = {
      id,
      nodeId: nodeId("R", id),
      owner,
      name,
      fullName,
      bare: join(this.#dir, owner, `${name}.git`),
      defaultBranch: opts.defaultBranch ?? "main",
      items: new Map(),
      nextNumber: 1,
      protection: new Map(),
      contexts: new Map(),
    };
    await this.git.init(repo.bare, repo.defaultBranch, opts.files ?? { "README.md": `# ${name}\n` });
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  /** The repository `owner/name` (case-insensitive, as GitHub). @throws when unknown. */
  repo(fullName: string): FakeRepo {
    const r = this.repos.get(fullName.toLowerCase());
    if (!r) throw new Error(`fake GitHub: no repository ${fullName}`);
    return r;
  }

  findRepo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  /** Git URL of a repository: the path of its bare repository (fetch and push work on it). */
  gitUrl(owner: string, name: string): string {
    return this.repo(`${owner}/${name}`).bare;
  }

  /** Commits `files` (`null` deletes) on `branch` (new branches start at `from`, default the default branch). */
  async commit(
    fullName: string,
    branch: string,
    files: Record<string, string | null>,
    opts: { message?: string; from?: string } = {},
  ): Promise<string> {
    const repo = this.repo(fullName);
    const sha = await this.git.commit(
      repo.bare,
      branch,
      files,
      opts.message ?? `Update ${Object.keys(files).join(", ")}`,
      {
        from: opts.from ?? repo.defaultBranch,
      },
    );
    for (const item of repo.items.values()) {
      if (item.kind === "pull" && item.head === branch && item.state === "open") item.updatedAt = this.now();
    }
    return sha;
  }

  branchSha(fullName: string, branch: string): Promise<string | undefined> {
    return this.git.branchSha(this.repo(fullName).bare, branch);
  }

  #newItemBase(repo: FakeRepo, f: { title: string; body?: string; user?: string; labels?: string[] }) {
    const id = this.nextId();
    const now = this.now();
    return {
      id,
      nodeId: nodeId("I", id),
      number: repo.nextNumber++,
      title: f.title,
      body: f.body ?? "",
      user: f.user ?? "octocat",
      labels: [...(f.labels ?? [])],
      state: "open" as const,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      comments: [],
    };
  }

  createIssue(
    fullName: string,
    f: { title: string; body?: string; user?: string; labels?: string[] },
  ): FakeIssue {
    const repo = this.repo(fullName);
    const issue: FakeIssue = { kind: "issue", ...this.#newItemBase(repo, f) };
    repo.items.set(issue.number, issue);
    return issue;
  }

  /** Opens a pull request from existing branch `head` into `base` (default: the default branch). */
  createPullRequest(
    fullName: string,
    f: {
      title: string;
      head: string;
      base?: string;
      body?: string;
      draft?: boolean;
      user?: string;
      labels?: string[];
    },
  ): FakePull {
    const repo = this.repo(fullName);
    const base = this.#newItemBase(repo, f);
    const pr: FakePull = {
      kind: "pull",
      ...base,
      prNodeId: nodeId("PR", base.id),
      head: f.head,
      base: f.base ?? repo.defaultBranch,
      draft: f.draft ?? false,
      mergedAt: null,
      mergeCommitSha: null,
      reviewThreads: [],
    };
    repo.items.set(pr.number, pr);
    return pr;
  }

  /**
   * Creates `n` branches with one real commit each (one `git fast-import`) and opens a pull
   * request for each. `files(i)` is what commit i writes (default `seed/<branch>.txt`);
   * `draft(i)`, `title(i)`, `labels(i)` shape the PRs. For benchmarks: 500 PRs in about a second.
   */
  async seedPullRequests(
    fullName: string,
    n: number,
    opts: {
      base?: string;
      branchPrefix?: string;
      files?: (i: number) => Record<string, string>;
      draft?: (i: number) => boolean;
      title?: (i: number) => string;
      labels?: (i: number) => string[];
      user?: string;
    } = {},
  ): Promise<FakePull[]> {
    const repo = this.repo(fullName);
    const base = opts.base ?? repo.defaultBranch;
    const baseSha = await this.git.branchSha(repo.bare, base);
    if (!baseSha) throw new Error(`fake GitHub: ${fullName} has no branch ${base}`);
    const prefix = opts.branchPrefix ?? "seed/pr-";
    const branches = Array.from({ length: n }, (_, i) => {
      const name = `${prefix}${i}`;
      return {
        name,
        files: opts.files?.(i) ?? { [`seed/${name.replaceAll("/", "-")}.txt`]: `change ${i}\n` },
        message: `Seed change ${i}`,
      };
    });
    await this.git.fastBranches(repo.bare, baseSha, branches, this.now());
    return branches.map((b, i) =>
      this.createPullRequest(fullName, {
        title: opts.title?.(i) ?? `Seeded change ${i}`,
        head: b.name,
        base,
        draft: opts.draft?.(i) ?? false,
        labels: opts.labels?.(i) ?? [],
        ...(opts.user ? { user: opts.user } : {}),
      }),
    );
  }

  /** Opens `n` issues titled `Issue <i>`. */
  seedIssues(fullName: string, n: number, opts: { user?: string; labels?: string[] } = {}): FakeIssue[] {
    return Array.from({ length: n }, (_, i) =>
      this.createIssue(fullName, { title: `Issue ${i}`, body: `Body ${i}`, ...opts }),
    );
  }

  item(fullName: string, number: number): FakeItem {
    const it = this.repo(fullName).items.get(number);
    if (!it) throw new Error(`fake GitHub: ${fullName} has no #${number}`);
    return it;
  }

  pull(fullName: string, number: number): FakePull {
    const it = this.item(fullName, number);
    if (it.kind !== "pull") throw new Error(`fake GitHub: ${fullName}#${number} is an issue`);
    return it;
  }

  addComment(fullName: string, number: number, c: { body: string; user?: string }): FakeComment {
    const item = this.item(fullName, number);
    const id = this.nextId();
    const now = this.now();
    const comment: FakeComment = {
      id,
      nodeId: nodeId("IC", id),
      user: c.user ?? "octocat",
      body: c.body,
      createdAt: now,
      updatedAt: now,
    };
    item.comments.push(comment);
    item.updatedAt = now;
    return comment;
  }

  addReviewThread(
    fullName: string,
    number: number,
    t: {
      path: string;
      line?: number | null;
      isResolved?: boolean;
      comments: { body: string; user?: string }[];
    },
  ): FakeReviewThread {
    const pr = this.pull(fullName, number);
    const thread: FakeReviewThread = {
      nodeId: nodeId("PRRT", this.nextId()),
      isResolved: t.isResolved ?? false,
      path: t.path,
      line: t.line ?? null,
      comments: t.comments.map((c) => {
        const id = this.nextId();
        return {
          id,
          nodeId: nodeId("PRRC", id),
          user: c.user ?? "octocat",
          body: c.body,
          createdAt: this.now(),
        };
      }),
    };
    pr.reviewThreads.push(thread);
    return thread;
  }

  /** Adds a check run on commit `sha` (GitHub: only Apps can; here tests do). */
  addCheckRun(
    fullName: string,
    sha: string,
    c: {
      name: string;
      status?: FakeCheckRun["status"];
      conclusion?: FakeCheckRun["conclusion"];
      detailsUrl?: string;
      title?: string;
      summary?: string;
      text?: string;
    },
  ): FakeCheckRun {
    const id = this.nextId();
    const run: FakeCheckRun = {
      kind: "check_run",
      id,
      nodeId: nodeId("CR", id),
      name: c.name,
      status: c.status ?? (c.conclusion ? "COMPLETED" : "QUEUED"),
      conclusion: c.conclusion ?? null,
      detailsUrl: c.detailsUrl ?? null,
      title: c.title ?? null,
      summary: c.summary ?? null,
      text: c.text ?? null,
      startedAt: this.now(),
    };
    this.#contextsOf(fullName, sha).push(run);
    return run;
  }

  /** Adds a commit status on `sha` (`POST /repos/{o}/{r}/statuses/{sha}` on GitHub). */
  addStatus(
    fullName: string,
    sha: string,
    s: { context: string; state: FakeStatus["state"]; targetUrl?: string; description?: string },
  ): FakeStatus {
    const id = this.nextId();
    const status: FakeStatus = {
      kind: "status",
      id,
      nodeId: nodeId("SC", id),
      context: s.context,
      state: s.state,
      targetUrl: s.targetUrl ?? null,
      description: s.description ?? null,
      createdAt: this.now(),
    };
    const list = this.#contextsOf(fullName, sha);
    // GitHub keeps the latest status per context.
    const at = list.findIndex((c) => c.kind === "status" && c.context === s.context);
    if (at >= 0) list[at] = status;
    else list.push(status);
    return status;
  }

  #contextsOf(fullName: string, sha: string): FakeContext[] {
    const repo = this.repo(fullName);
    let list = repo.contexts.get(sha);
    if (!list) repo.contexts.set(sha, (list = []));
    return list;
  }

  #protection(repo: FakeRepo, branch: string): FakeProtection {
    let p = repo.protection.get(branch);
    if (!p) repo.protection.set(branch, (p = { requiredContexts: [], strict: false }));
    return p;
  }

  /** Branch protection: these check names/contexts must pass before merging into `branch`. */
  requireChecks(fullName: string, branch: string, contexts: string[]): void {
    this.#protection(this.repo(fullName), branch).requiredContexts = [...contexts];
  }

  /** Branch protection "require branches to be up to date": enables `mergeStateStatus: BEHIND`. */
  requireUpToDate(fullName: string, branch: string, strict = true): void {
    this.#protection(this.repo(fullName), branch).strict = strict;
  }

  /**
   * Branch protection "Require a pull request before merging" (one approving review): open
   * PRs into `branch` without an approval ({@link approve}) get `mergeStateStatus: BLOCKED`
   * even when every check passed, and GraphQL `reviewDecision: REVIEW_REQUIRED`.
   */
  requireReviews(fullName: string, branch: string, required = true): void {
    this.#protection(this.repo(fullName), branch).requireReviews = required;
  }

  /** Records an approving review on a PR (`false` takes it back); only its effect on merge state is modelled. */
  approve(fullName: string, number: number, approved = true): void {
    this.pull(fullName, number).approved = approved;
  }

  /**
   * Overrides `mergeable`: `null` reports `UNKNOWN` as GitHub does while it computes after a
   * push; `"computed"` goes back to git. With `reads`, the override ends after that many reads.
   */
  setMergeable(
    fullName: string,
    number: number,
    value: boolean | null | "computed",
    opts: { reads?: number } = {},
  ): void {
    const pr = this.pull(fullName, number);
    if (value === "computed") delete pr.mergeableOverride;
    else pr.mergeableOverride = { value, reads: opts.reads ?? Number.POSITIVE_INFINITY };
  }

  /** Marks a PR merged with a real merge commit on its base (no checks enforced). */
  async mergePullRequest(fullName: string, number: number): Promise<string> {
    const repo = this.repo(fullName);
    const pr = this.pull(fullName, number);
    const [baseSha, headSha] = await Promise.all([
      this.git.branchSha(repo.bare, pr.base),
      this.git.branchSha(repo.bare, pr.head),
    ]);
    const r = await this.git.mergeInto(repo.bare, pr.base, baseSha!, pr.head, headSha!);
    if (!("sha" in r)) throw new Error(`fake GitHub: ${fullName}#${number} does not merge cleanly`);
    const now = this.now();
    Object.assign(pr, {
      state: "closed",
      closedAt: now,
      mergedAt: now,
      updatedAt: now,
      mergeCommitSha: r.sha,
    });
    return r.sha;
  }

  /**
   * The next `n` authenticated requests are refused for a rate limit: `primary` answers 403
   * with `x-ratelimit-remaining: 0` and a reset in the past (GraphQL: 200 with a `RATE_LIMITED`
   * error, as GitHub does); `secondary` answers 403 "You have exceeded a secondary rate limit"
   * with `retry-after: 1`.
   */
  rateLimitNext(n = 1, kind: "primary" | "secondary" = "primary"): void {
    for (let i = 0; i < n; i++) this.#limits.push(kind);
  }

  /**
   * Registers a GitHub App installation: `POST /app/installations/{id}/access_tokens` with a JWT
   * signed by the App's key (RS256, `iss` = app id) returns an installation token that acts as
   * `<slug>[bot]`.
   */
  registerApp(a: { appId: number | string; publicKey: string; installationId: number; slug?: string }): void {
    this.#apps.push({
      appId: String(a.appId),
      publicKey: a.publicKey,
      installationId: a.installationId,
      slug: a.slug ?? "nightshift",
    });
  }

  /** The GraphQL requests logged so far. */
  graphqlRequests(): RequestLogEntry[] {
    return this.requests.filter((r) => r.path === "/graphql");
  }

  clearLog(): void {
    this.requests.length = 0;
    this.unhandled.length = 0;
    this.rejectedDocuments.length = 0;
  }

  // ---------------------------------------------------------------------------------------
  // Computed pull request state, shared by REST and GraphQL.

  /** Branch tips of `repo`, read once per request. */
  branches(ctx: RequestContext, repo: FakeRepo): Promise<Map<string, string>> {
    let p = ctx.branches.get(repo);
    if (!p) ctx.branches.set(repo, (p = this.git.branches(repo.bare)));
    return p;
  }

  /** Head and base tips and git's analysis of them; `analysis` null when a branch is gone. */
  async analysePull(
    ctx: RequestContext,
    repo: FakeRepo,
    pr: FakePull,
  ): Promise<{ headSha: string | null; baseSha: string | null; analysis: BranchAnalysis | null }> {
    const tips = await this.branches(ctx, repo);
    const headSha = tips.get(pr.head) ?? null;
    const baseSha = tips.get(pr.base) ?? null;
    const analysis = headSha && baseSha ? await this.git.analyse(repo.bare, baseSha, headSha) : null;
    return { headSha, baseSha, analysis };
  }

  /** `mergeable`: the test override while it lasts, else git's merge-tree answer. */
  mergeable(pr: FakePull, analysis: BranchAnalysis | null): boolean | null {
    const o = pr.mergeableOverride;
    if (o) {
      o.reads--;
      if (o.reads <= 0) delete pr.mergeableOverride;
      return o.value;
    }
    return analysis ? analysis.mergeable : null;
  }

  isRequired(repo: FakeRepo, pr: FakePull, context: string): boolean {
    return repo.protection.get(pr.base)?.requiredContexts.includes(context) ?? false;
  }

  /**
   * GitHub's `mergeStateStatus`, approximated in this order: `UNKNOWN` (mergeability not
   * computed), `DIRTY` (conflicts), `DRAFT`, `BEHIND` (only when the base requires up-to-date
   * branches), `BLOCKED` (an approving review required and missing, or a required check
   * missing or not successful), `UNSTABLE` (another check failing or pending), `CLEAN`.
   */
  mergeStateStatus(
    repo: FakeRepo,
    pr: FakePull,
    mergeable: boolean | null,
    analysis: BranchAnalysis | null,
    headSha: string | null,
  ): MergeStateStatus {
    if (mergeable === null) return "UNKNOWN";
    if (mergeable === false) return "DIRTY";
    if (pr.draft) return "DRAFT";
    const prot = repo.protection.get(pr.base);
    if (prot?.strict && analysis && analysis.behindBy > 0) return "BEHIND";
    if (prot?.requireReviews && !pr.approved) return "BLOCKED";
    const contexts = headSha ? (repo.contexts.get(headSha) ?? []) : [];
    const passed = (c: FakeContext) =>
      c.kind === "check_run"
        ? c.status === "COMPLETED" &&
          (c.conclusion === "SUCCESS" || c.conclusion === "NEUTRAL" || c.conclusion === "SKIPPED")
        : c.state === "SUCCESS";
    const nameOf = (c: FakeContext) => (c.kind === "check_run" ? c.name : c.context);
    for (const req of prot?.requiredContexts ?? []) {
      const c = contexts.find((x) => nameOf(x) === req);
      if (!c || !passed(c)) return "BLOCKED";
    }
    // "Mergeable with non-passing commit status": failing or still pending.
    return contexts.some((c) => !passed(c)) ? "UNSTABLE" : "CLEAN";
  }

  /**
   * GitHub's update-branch: merges base into head unless the head is no longer `expected`
   * (422 "expected head sha didn't match current head ref"), the merge conflicts (422 "merge
   * conflict between base and head") or there is nothing to merge (422 "There are no new
   * commits on the base branch."). The fake merges at once; GitHub does it shortly after 202.
   */
  async updateBranch(
    repo: FakeRepo,
    pr: FakePull,
    expected: string | undefined,
  ): Promise<{ ok: true; sha: string } | { ok: false; message: string }> {
    const [headSha, baseSha] = await Promise.all([
      this.git.branchSha(repo.bare, pr.head),
      this.git.branchSha(repo.bare, pr.base),
    ]);
    if (!headSha || !baseSha) return { ok: false, message: "head ref does not exist" };
    if (expected !== undefined && expected !== headSha) {
      return { ok: false, message: "expected head sha didn't match current head ref." };
    }
    const a = await this.git.analyse(repo.bare, baseSha, headSha);
    if (a.behindBy === 0) return { ok: false, message: "There are no new commits on the base branch." };
    const r = await this.git.mergeInto(repo.bare, pr.head, headSha, pr.base, baseSha);
    if ("conflict" in r) return { ok: false, message: "merge conflict between base and head" };
    if ("moved" in r) return { ok: false, message: "expected head sha didn't match current head ref." };
    pr.updatedAt = this.now();
    return { ok: true, sha: r.sha };
  }

  /** Finds the issue or pull request behind a node id: an issue's `I_…` or a pull request's `PR_…`. */
  findSubject(id: string): { repo: FakeRepo; item: FakeItem } | undefined {
    for (const repo of this.repos.values()) {
      for (const item of repo.items.values()) {
        if (item.nodeId === id || (item.kind === "pull" && item.prNodeId === id)) return { repo, item };
      }
    }
    return undefined;
  }

  /** Finds the object behind a node id (pull requests and review threads). */
  findNode(id: string): { repo: FakeRepo; pr: FakePull; thread?: FakeReviewThread } | undefined {
    for (const repo of this.repos.values()) {
      for (const item of repo.items.values()) {
        if (item.kind !== "pull") continue;
        if (item.prNodeId === id) return { repo, pr: item };
        const thread = item.reviewThreads.find((t) => t.nodeId === id);
        if (thread) return { repo, pr: item, thread };
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------
  // HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const entry: RequestLogEntry = {
      method,
      path: url.pathname,
      query: url.search,
      operation: null,
      status: 0,
    };
    this.requests.push(entry);
    const send = (r: RestReply) => {
      entry.status = r.status;
      const headers: Record<string, string> = {
        "x-github-request-id": `FAKE:${this.requests.length}`,
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-reset": String(Math.floor(this.now() / 1000) + 3600),
        ...r.headers,
      };
      if (typeof r.body === "string") {
        headers["content-type"] ??= "text/plain; charset=utf-8";
        res.writeHead(r.status, headers);
        res.end(r.body);
      } else if (r.body === undefined) {
        res.writeHead(r.status, headers);
        res.end();
      } else {
        headers["content-type"] = "application/json; charset=utf-8";
        res.writeHead(r.status, headers);
        res.end(JSON.stringify(r.body));
      }
    };
    const json = (): Record<string, unknown> => {
      try {
        return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };

    const appToken = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (appToken && method === "POST") return send(this.#installationToken(req, Number(appToken[1])));

    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const login = m ? this.tokens.get(m[1]!) : undefined;
    if (!login) {
      return send({
        status: 401,
        body: {
          message: "Bad credentials",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        },
      });
    }
    const isGraphql = url.pathname === "/graphql" && method === "POST";
    if (isGraphql) entry.operation = operationName(String(json().query ?? ""));

    const limit = this.#limits.shift();
    if (limit) return send(this.#rateLimitReply(limit, isGraphql));

    const ctx: RequestContext = { login, branches: new Map() };
    if (isGraphql) {
      const body = json();
      const reply = await handleGraphql(this, ctx, body);
      if (ctx.mutations) {
        entry.mutations = ctx.mutations;
        entry.variables = (body.variables as Record<string, unknown> | undefined) ?? {};
      }
      return send({ status: 200, body: reply });
    }
    const restBody = json();
    if (raw) entry.body = restBody;
    const reply = await handleRest(this, ctx, {
      method,
      url,
      body: restBody,
      accept: String(req.headers.accept ?? ""),
    });
    if (!reply) {
      this.unhandled.push(`${method} ${url.pathname}`);
      return send({
        status: 404,
        body: { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
      });
    }
    return send(reply);
  }

  #rateLimitReply(kind: "primary" | "secondary", graphql: boolean): RestReply {
    const resetPast = String(Math.floor(this.now() / 1000) - 10);
    if (kind === "secondary") {
      return {
        status: 403,
        headers: { "retry-after": "1" },
        body: {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          documentation_url:
            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
          status: "403",
        },
      };
    }
    const headers = {
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": resetPast,
      "x-ratelimit-used": "5000",
    };
    if (graphql) {
      return {
        status: 200,
        headers,
        body: { errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded for user ID 1." }] },
      };
    }
    return {
      status: 403,
      headers,
      body: {
        message: "API rate limit exceeded for user ID 1.",
        documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        status: "403",
      },
    };
  }

  #installationToken(req: IncomingMessage, installationId: number): RestReply {
    const m = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const bad = (message: string): RestReply => ({
      status: 401,
      body: { message, documentation_url: "https://docs.github.com/rest", status: "401" },
    });
    if (!m) return bad("A JSON web token could not be decoded");
    const [h, p, s] = m[1]!.split(".");
    if (!h || !p || !s) return bad("A JSON web token could not be decoded");
    let claims: { iss?: string | number; exp?: number; iat?: number };
    try {
      claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as typeof claims;
    } catch {
      return bad("A JSON web token could not be decoded");
    }
    const app = this.#apps.find((a) => a.appId === String(claims.iss) && a.installationId === installationId);
    if (!app)
      return {
        status: 404,
        body: { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
      };
    const ok = verifySignature(
      "RSA-SHA256",
      Buffer.from(`${h}.${p}`),
      createPublicKey(app.publicKey),
      Buffer.from(s, "base64url"),
    );
    if (!ok) return bad("A JSON web token could not be decoded");
    if (typeof claims.exp === "number" && claims.exp * 1000 < this.now() - 60_000) {
      return bad(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    const token = `ghs_fake${this.nextId()}${Math.random().toString(36).slice(2, 10)}`;
    this.tokens.set(token, `${app.slug}[bot]`);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(this.now() + 3_600_000).toISOString(),
        permissions: { contents: "write", issues: "write", pull_requests: "write" },
        repository_selection: "all",
      },
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (data += d));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

/** The operation name of a GraphQL document (`query Name(...)`), for the request log. */
function operationName(query: string): string | null {
  return /\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1] ?? null;
}
