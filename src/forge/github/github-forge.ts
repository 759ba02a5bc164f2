import { type Clock, systemClock } from "../../util/clock.ts";
import type {
  Comment,
  Forge,
  ForgeRepo,
  Issue,
  NewIssue,
  NewPullRequest,
  PullRequest,
  PullRequestPatch,
  PullRequestStatus,
  ReviewThread,
  UpdateBranchResult,
} from "../types.ts";
import { BatchScope, type ErrorContext, octokitMutationSender } from "./batch-scope.ts";
import {
  createOctokit,
  type GithubAppCredentials,
  type GithubThrottleOptions,
  type NightshiftOctokit,
} from "./client.ts";
import { GithubForgeError, notFoundError, toForgeError } from "./errors.ts";
import {
  type RepoId,
  toComment,
  toCommentFromGraphql,
  toIssue,
  toPullRequest,
  toReviewThread,
  withSessionMarker,
  type RestPullRequest,
} from "./mapping.ts";
import type { AliasOutcome, MutationBatch } from "./mutation-batch.ts";
import {
  ADD_COMMENT_PAYLOAD,
  type AddCommentPayload,
  CONVERT_TO_DRAFT_MUTATION,
  DRAFT_PAYLOAD,
  MARK_READY_MUTATION,
  MUTATION_BATCH_SIZE,
  PULL_REQUEST_ID_QUERY,
  REPO_QUERY,
  REVIEW_THREADS_QUERY,
  THREAD_COMMENTS_QUERY,
  UPDATE_BRANCH_PAYLOAD,
  type UpdateBranchPayload,
  type PullRequestIdReply,
  type RepoReply,
  type ReviewCommentNode,
  type ReviewThreadsReply,
  type ThreadCommentsReply,
} from "./queries.ts";
import { readPullRequestStatuses, type StatusReadContext } from "./status-read.ts";

export interface GithubForgeOptions {
  /** REST base URL; default `https://api.github.com`, GitHub Enterprise Server `https://HOST/api/v3`. */
  apiUrl?: string;
  /** A personal access token (or any token GitHub takes as `Authorization: token …`). */
  token?: string;
  /** Act as a GitHub App installation instead of a token. */
  app?: GithubAppCredentials;
  /**
   * Git URL of a repository, for fetch and push. Default `https://github.com/{owner}/{repo}.git`,
   * or the Enterprise host's. Never carries credentials: see {@link GithubForge.gitEnv}.
   */
  gitUrl?: (owner: string, repo: string) => string;
  /** Owner used for repository names given without one (`widgets` → `acme/widgets`). */
  defaultOwner?: string;
  /** How to fix credentials, for error messages; default names `GITHUB_TOKEN`. */
  credentialsHint?: string;
  throttle?: GithubThrottleOptions;
  /**
   * After `update-branch` answers 202 GitHub merges in the background: the head is re-read up
   * to this many times, `updateBranchPollMs` apart, until it moves. Default 0: the new head is
   * left unknown (the next status read sees it), which saves a request per updated PR.
   */
  updateBranchPolls?: number;
  updateBranchPollMs?: number;
  /**
   * Mutation fields per request inside {@link GithubForge.batch}; default
   * {@link MUTATION_BATCH_SIZE} (25).
   */
  mutationBatchSize?: number;
  clock?: Clock;
  log?: { warn: (msg: string) => void };
}

/**
 * The GitHub forge adapter: octokit REST for issues, PRs, comments, diffs and update-branch;
 * GraphQL for the batched reads (PR statuses with checks, review threads), the draft
 * mutations and, inside {@link GithubForge.batch}, batched writes (drafts, comments, branch
 * updates as aliased mutations in one document). Repositories are named `owner/name`. Every
 * list reads every page. Failures are {@link GithubForgeError}s that never contain the token.
 *
 * Request budget of {@link listPullRequestStatuses} for N open PRs: ⌈N/100⌉ listing requests +
 * ⌈N/50⌉ status requests (each with its PRs' checks and compares) + one per PR with more than
 * 100 check contexts. 120 PRs: 5 requests; 500 PRs: 15.
 */
export class GithubForge implements Forge {
  readonly kind = "github" as const;
  readonly #octokit: NightshiftOctokit;
  readonly #gitUrl: (owner: string, repo: string) => string;
  readonly #defaultOwner: string | undefined;
  readonly #hint: string;
  readonly #secrets: string[];
  readonly #clock: Clock;
  readonly #polls: number;
  /** PR node ids seen in status reads (`owner/name#n`), so a draft change right after needs no lookup. */
  readonly #nodeIds = new Map<string, string>();
  readonly #pollMs: number;
  readonly #token: string | undefined;
  readonly #isApp: boolean;
  /** How errors are worded; `secrets` grows when an App installation token is fetched. */
  readonly #errors: ErrorContext;
  /** The open {@link batch} of each async context (batch-scope.ts). */
  readonly #batches: BatchScope;
  /** What the paged status read (status-read.ts) uses of this forge. */
  readonly #statusRead: StatusReadContext;
  #requests = 0;

  constructor(opts: GithubForgeOptions) {
    const apiUrl = (opts.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
    this.#token = opts.token;
    this.#isApp = !!opts.app;
    this.#octokit = createOctokit({
      apiUrl,
      ...(opts.token ? { token: opts.token } : {}),
      ...(opts.app ? { app: opts.app } : {}),
      ...(opts.throttle ? { throttle: opts.throttle } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      onRequest: () => {
        this.#requests++;
      },
    });
    this.#gitUrl = opts.gitUrl ?? defaultGitUrl(apiUrl);
    this.#defaultOwner = opts.defaultOwner;
    this.#hint =
      opts.credentialsHint ??
      "set GITHUB_TOKEN to a token with contents, issues and pull-request write access to the repository";
    this.#secrets = opts.token ? [opts.token] : [];
    this.#clock = opts.clock ?? systemClock;
    this.#polls = opts.updateBranchPolls ?? 0;
    this.#pollMs = opts.updateBranchPollMs ?? 1000;
    this.#errors = { credentials: this.#hint, secrets: this.#secrets };
    this.#batches = new BatchScope({
      send: octokitMutationSender(this.#octokit, this.#errors),
      maxFields: opts.mutationBatchSize ?? MUTATION_BATCH_SIZE,
      errors: this.#errors,
    });
    this.#statusRead = {
      octokit: this.#octokit,
      graphql: (what, query, variables) => this.#graphql(what, query, variables),
      errors: this.#errors,
      onNodeId: (full, number, nodeId) => this.#nodeIds.set(`${full}#${number}`, nodeId),
    };
  }

  /**
   * Runs `fn` with this forge's writes coalesced: `setDraft`, `addComment` and `updateBranch`
   * calls made inside it (in its async context, on pull requests whose node id a
   * {@link listPullRequestStatuses} read learnt) are queued and sent as GraphQL mutation
   * documents of up to `mutationBatchSize` aliased fields (`convertPullRequestToDraft`,
   * `markPullRequestReadyForReview`, `addComment`, `updatePullRequestBranch` with
   * `expectedHeadOid` and `updateMethod: MERGE`), one document at a time. A document is sent
   * once the calls made together have been queued (on `setImmediate` after the first), so a
   * `Promise.all` over many pull requests shares documents, and a call awaited before the next
   * is made simply goes into a later document. Each call gets the same result or error it
   * would get on its own: GitHub answers every alias separately (`errors[].path[0]`), so one
   * refused change does not fail the others; a request that gets no GraphQL reply at all fails
   * every call in it. Other calls, and these on unknown pull requests, behave as outside a
   * batch. Resolves with `fn`'s result once every queued change was answered; a batch inside a
   * batch joins the outer one.
   *
   * Request budget: ⌈changes/25⌉ requests instead of one per change, when the changes are made
   * together; calls on PRs whose node id is unknown cost what they cost outside a batch. The
   * guard's first pass over 500 PRs with 100 demotions (each a conversion and a comment) and
   * 50 branch updates: 250 changes in 10 requests.
   */
  batch<T>(fn: () => Promise<T>): Promise<T> {
    return this.#batches.run(fn);
  }

  /** The node id of a PR seen in a status read, and the open batch, when both exist. */
  #batchTarget(full: string, number: number): { batch: MutationBatch; nodeId: string } | undefined {
    const batch = this.#batches.current();
    const nodeId = this.#nodeIds.get(`${full}#${number}`);
    return batch && nodeId ? { batch, nodeId } : undefined;
  }

  /** HTTP requests sent so far, retries and App token requests included. */
  get requestCount(): number {
    return this.#requests;
  }

  /**
   * Git environment that authenticates fetch and push to GitHub without putting the token in
   * a URL, on disk or on a command line: `http.extraHeader=Authorization: Basic
   * <base64(x-access-token:TOKEN)>` (how `actions/checkout` authenticates) as git's environment
   * configuration (`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_0`/`GIT_CONFIG_VALUE_0`, git ≥ 2.31), so it
   * never shows in a process list or an error message that quotes the arguments. For a GitHub
   * App the installation token is fetched (cached by `@octokit/auth-app` until shortly before
   * its 1 h expiry). The values are secrets: the runner uses them outside the sandbox only.
   *
   * @throws {GithubForgeError} when the App token cannot be obtained.
   */
  async gitEnv(): Promise<Record<string, string>> {
    const token = await this.#currentToken();
    const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
    return {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    };
  }

  async #currentToken(): Promise<string> {
    if (!this.#isApp && this.#token) return this.#token;
    const auth = (await this.#call("getting a GitHub App installation token", () =>
      this.#octokit.auth({ type: "installation" }),
    )) as { token: string };
    if (!this.#secrets.includes(auth.token)) this.#secrets.push(auth.token);
    return auth.token;
  }

  #id(repo: string): RepoId {
    const parts = repo.split("/");
    if (parts.length === 2 && parts[0] && parts[1]) return { owner: parts[0], name: parts[1], full: repo };
    if (parts.length === 1 && parts[0] && this.#defaultOwner) {
      return { owner: this.#defaultOwner, name: parts[0], full: `${this.#defaultOwner}/${parts[0]}` };
    }
    throw new GithubForgeError(
      `GitHub: repository name "${repo}" must be owner/name, such as acme/widgets`,
      0,
    );
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toForgeError(err, what, this.#errors);
    }
  }

  #graphql<T>(what: string, query: string, variables: Record<string, unknown>): Promise<T> {
    return this.#call(what, () => this.#octokit.graphql<T>(query, variables));
  }

  /**
   * The repository's default branch and its tip (one GraphQL request) and where git reaches it.
   * @throws {GithubForgeError} when the repository is missing, unreadable or has no commit.
   */
  async repo(name: string): Promise<ForgeRepo> {
    const id = this.#id(name);
    const r = await this.#graphql<RepoReply>(`reading repository ${id.full}`, REPO_QUERY, {
      owner: id.owner,
      name: id.name,
    });
    const ref = r.repository?.defaultBranchRef;
    if (!r.repository || !ref) {
      throw new GithubForgeError(
        `GitHub: repository ${id.full} has no default branch (it is empty); push a first commit to it`,
        0,
      );
    }
    return {
      name: id.full,
      remoteUrl: this.#gitUrl(id.owner, id.name),
      defaultBranch: ref.name,
      ...(ref.target?.oid ? { defaultBranchSha: ref.target.oid } : {}),
    };
  }

  /** Opens an issue as the token's user; `issue.author` is not settable on GitHub and is ignored. */
  async createIssue(repo: string, issue: NewIssue): Promise<Issue> {
    const id = this.#id(repo);
    const r = await this.#call(`opening an issue on ${id.full}`, () =>
      this.#octokit.rest.issues.create({
        owner: id.owner,
        repo: id.name,
        title: issue.title,
        body: issue.body,
        ...(issue.labels?.length ? { labels: issue.labels } : {}),
      }),
    );
    return toIssue(id.full, r.data);
  }

  /** @throws {GithubForgeError} when #number does not exist or is a pull request. */
  async getIssue(repo: string, number: number): Promise<Issue> {
    const id = this.#id(repo);
    const r = await this.#call(`reading issue #${number} of ${id.full}`, () =>
      this.#octokit.rest.issues.get({ owner: id.owner, repo: id.name, issue_number: number }),
    );
    if (r.data.pull_request) {
      throw new GithubForgeError(
        `GitHub: #${number} of ${id.full} is a pull request, not an issue; use the pull request commands`,
        0,
      );
    }
    return toIssue(id.full, r.data);
  }

  /** Issues (not pull requests, which GitHub's issue list also returns), oldest first, every page. */
  async listIssues(repo: string, opts: { state?: "open" | "closed" | "all" } = {}): Promise<Issue[]> {
    const id = this.#id(repo);
    const items = await this.#call(`listing issues of ${id.full}`, () =>
      this.#octokit.paginate(this.#octokit.rest.issues.listForRepo, {
        owner: id.owner,
        repo: id.name,
        state: opts.state ?? "open",
        sort: "created",
        direction: "asc",
        per_page: 100,
      }),
    );
    return items.filter((i) => !i.pull_request).map((i) => toIssue(id.full, i));
  }

  /**
   * Opens a pull request (`draft` as given). The session id is kept in a hidden marker at the
   * end of the body and read back into `sessionId`.
   */
  async createPullRequest(repo: string, pr: NewPullRequest): Promise<PullRequest> {
    const id = this.#id(repo);
    const r = await this.#call(`opening a pull request ${pr.head} → ${pr.base} on ${id.full}`, () =>
      this.#octokit.rest.pulls.create({
        owner: id.owner,
        repo: id.name,
        title: pr.title,
        body: withSessionMarker(pr.body, pr.sessionId),
        head: pr.head,
        base: pr.base,
        draft: pr.draft,
      }),
    );
    return toPullRequest(id.full, r.data as RestPullRequest);
  }

  async getPullRequest(repo: string, number: number): Promise<PullRequest> {
    const id = this.#id(repo);
    const r = await this.#call(`reading pull request #${number} of ${id.full}`, () =>
      this.#octokit.rest.pulls.get({ owner: id.owner, repo: id.name, pull_number: number }),
    );
    return toPullRequest(id.full, r.data as RestPullRequest);
  }

  /** Pull requests oldest first, every page; `merged` reads the closed ones and keeps the merged. */
  async listPullRequests(
    repo: string,
    opts: { state?: "open" | "closed" | "merged" | "all" } = {},
  ): Promise<PullRequest[]> {
    const id = this.#id(repo);
    const want = opts.state ?? "open";
    const items = await this.#call(`listing pull requests of ${id.full}`, () =>
      this.#octokit.paginate(this.#octokit.rest.pulls.list, {
        owner: id.owner,
        repo: id.name,
        state: want === "merged" ? "closed" : want,
        sort: "created",
        direction: "asc",
        per_page: 100,
      }),
    );
    const prs = items.map((p) => toPullRequest(id.full, p as RestPullRequest));
    return want === "merged"
      ? prs.filter((p) => p.state === "merged")
      : want === "closed"
        ? prs.filter((p) => p.state === "closed")
        : prs;
  }

  /** GitHub's diff of the pull request (`Accept: application/vnd.github.diff`), base...head. */
  async pullRequestDiff(repo: string, number: number): Promise<string> {
    const id = this.#id(repo);
    const r = await this.#call(`reading the diff of pull request #${number} of ${id.full}`, () =>
      this.#octokit.rest.pulls.get({
        owner: id.owner,
        repo: id.name,
        pull_number: number,
        mediaType: { format: "diff" },
      }),
    );
    return String(r.data as unknown);
  }

  /**
   * Comments as the token's user; `comment.author` is not settable on GitHub and is ignored.
   * REST `POST …/issues/{n}/comments`, or inside {@link batch} on a PR seen in a status read a
   * batched GraphQL `addComment` on the PR's node id (the same issue comment).
   */
  async addComment(
    repo: string,
    number: number,
    comment: { author: string; body: string },
  ): Promise<Comment> {
    const id = this.#id(repo);
    const what = `commenting on #${number} of ${id.full}`;
    const target = this.#batchTarget(id.full, number);
    if (target) {
      const payload = await this.#batches.mutate<AddCommentPayload>(
        target.batch,
        {
          field: "addComment",
          inputType: "AddCommentInput",
          input: { subjectId: target.nodeId, body: comment.body },
          selection: ADD_COMMENT_PAYLOAD,
        },
        what,
      );
      const made = toCommentFromGraphql(id.full, number, payload);
      if (!made) {
        throw new GithubForgeError(
          `GitHub: ${what}: GitHub answered without the new comment; look at the pull request before commenting again`,
          200,
        );
      }
      return made;
    }
    const r = await this.#call(what, () =>
      this.#octokit.rest.issues.createComment({
        owner: id.owner,
        repo: id.name,
        issue_number: number,
        body: comment.body,
      }),
    );
    return toComment(id.full, number, r.data);
  }

  /** Conversation comments of an issue or pull request (not review comments), every page. */
  async listComments(repo: string, number: number): Promise<Comment[]> {
    const id = this.#id(repo);
    const items = await this.#call(`listing comments of #${number} of ${id.full}`, () =>
      this.#octokit.paginate(this.#octokit.rest.issues.listComments, {
        owner: id.owner,
        repo: id.name,
        issue_number: number,
        per_page: 100,
      }),
    );
    return items.map((c) => toComment(id.full, number, c));
  }

  /**
   * Open pull requests with mergeability, merge state, checks (required ones marked by
   * `isRequired`), diff size and `behindBy`, in few GraphQL requests (see
   * {@link readPullRequestStatuses} in status-read.ts). Remembers each PR's node id, so a
   * draft change, comment or branch update right after needs no lookup and can be batched.
   */
  async listPullRequestStatuses(
    repo: string,
    opts: { numbers?: number[] } = {},
  ): Promise<PullRequestStatus[]> {
    return readPullRequestStatuses(this.#statusRead, this.#id(repo), opts);
  }

  /** Review threads with all their comments, every page (GraphQL `reviewThreads`). */
  async listReviewThreads(repo: string, number: number): Promise<ReviewThread[]> {
    const id = this.#id(repo);
    const what = `reading review threads of pull request #${number} of ${id.full}`;
    const out: ReviewThread[] = [];
    let after: string | null = null;
    do {
      const r: ReviewThreadsReply = await this.#graphql<ReviewThreadsReply>(what, REVIEW_THREADS_QUERY, {
        owner: id.owner,
        name: id.name,
        number,
        after,
      });
      const pr = r.repository?.pullRequest;
      if (!pr) throw notFoundError(id, number);
      for (const t of pr.reviewThreads.nodes ?? []) {
        if (!t) continue;
        const comments: ReviewCommentNode[] = (t.comments.nodes ?? []).filter(
          (c): c is ReviewCommentNode => !!c,
        );
        let cAfter = t.comments.pageInfo.hasNextPage ? t.comments.pageInfo.endCursor : null;
        while (cAfter) {
          const more: ThreadCommentsReply = await this.#graphql<ThreadCommentsReply>(
            what,
            THREAD_COMMENTS_QUERY,
            {
              id: t.id,
              after: cAfter,
            },
          );
          const conn = more.node?.comments;
          if (!conn) break;
          for (const c of conn.nodes ?? []) if (c) comments.push(c);
          cAfter = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
        }
        out.push(toReviewThread(id.full, number, t, comments));
      }
      const info = pr.reviewThreads.pageInfo;
      after = info.hasNextPage ? info.endCursor : null;
    } while (after);
    return out;
  }

  /**
   * GraphQL `convertPullRequestToDraft` / `markPullRequestReadyForReview` (needs a user token or
   * an App token with pull-request write). On a PR seen in a status read the node id is known
   * and the mutation is sent at once (batched inside {@link batch}); otherwise the PR is read
   * first and nothing is sent when it is already in that state.
   */
  async setDraft(repo: string, number: number, draft: boolean): Promise<void> {
    const id = this.#id(repo);
    const what = `marking pull request #${number} of ${id.full} ${draft ? "draft" : "ready for review"}`;
    // The guard and the judge read the PR's status just before: its node id is known.
    const known = this.#nodeIds.get(`${id.full}#${number}`);
    if (known) return this.#setDraftById(known, draft, what);
    const r = await this.#graphql<PullRequestIdReply>(what, PULL_REQUEST_ID_QUERY, {
      owner: id.owner,
      name: id.name,
      number,
    });
    const pr = r.repository?.pullRequest;
    if (!pr) throw notFoundError(id, number);
    if (pr.isDraft === draft) return;
    await this.#setDraftById(pr.id, draft, what);
  }

  /** The draft mutation on a PR node id: batched inside {@link batch}, else its own request. */
  async #setDraftById(nodeId: string, draft: boolean, what: string): Promise<void> {
    const batch = this.#batches.current();
    if (!batch) {
      await this.#graphql(what, draft ? CONVERT_TO_DRAFT_MUTATION : MARK_READY_MUTATION, { id: nodeId });
      return;
    }
    await this.#batches.mutate(
      batch,
      {
        field: draft ? "convertPullRequestToDraft" : "markPullRequestReadyForReview",
        inputType: draft ? "ConvertPullRequestToDraftInput" : "MarkPullRequestReadyForReviewInput",
        input: { pullRequestId: nodeId },
        selection: DRAFT_PAYLOAD,
      },
      what,
    );
  }

  /**
   * `PUT /repos/{o}/{r}/pulls/{n}/update-branch` with `expected_head_sha`: GitHub merges the base
   * into the head (a merge commit, never a rebase). GitHub's 422 replies map to
   * `head_moved` ("expected head sha didn't match current head ref"), `conflict` ("merge
   * conflict between base and head") and `up_to_date` ("There are no new commits on the base
   * branch."). On 202 the merge runs in the background: with `updateBranchPolls` the head is
   * re-read until it moves and returned; by default it is not (`headSha` absent).
   *
   * Inside {@link batch}, on a PR seen in a status read: the GraphQL `updatePullRequestBranch`
   * (`expectedHeadOid`, `updateMethod: MERGE`, the same merge), batched. GitHub's GraphQL
   * errors for it carry the same messages (`gh pr update-branch` shows "merge conflict between
   * base and head (updatePullRequestBranch)") and map the same way; when the payload's
   * `headRefOid` already differs from `expectedHeadSha` it is returned as `headSha`.
   */
  async updateBranch(repo: string, number: number, expectedHeadSha: string): Promise<UpdateBranchResult> {
    const id = this.#id(repo);
    const what = `updating the branch of pull request #${number} of ${id.full}`;
    const target = this.#batchTarget(id.full, number);
    if (target) {
      const o: AliasOutcome = await target.batch.enqueue({
        field: "updatePullRequestBranch",
        inputType: "UpdatePullRequestBranchInput",
        input: { pullRequestId: target.nodeId, expectedHeadOid: expectedHeadSha, updateMethod: "MERGE" },
        selection: UPDATE_BRANCH_PAYLOAD,
      });
      if (o.errors.length > 0) {
        const refused = updateBranchRefusal(o.errors.map((e) => e.message).join("; "));
        if (refused) return refused;
        throw this.#batches.aliasError(o.errors, what);
      }
      const head = (o.data as UpdateBranchPayload | null)?.pullRequest?.headRefOid;
      if (head && head !== expectedHeadSha) return { updated: true, headSha: head };
      return this.#newHead(id, number, expectedHeadSha);
    }
    try {
      await this.#octokit.rest.pulls.updateBranch({
        owner: id.owner,
        repo: id.name,
        pull_number: number,
        expected_head_sha: expectedHeadSha,
      });
    } catch (err) {
      const e = err as { status?: number; response?: { data?: { message?: string } }; message?: string };
      if (e.status === 422) {
        const refused = updateBranchRefusal(e.response?.data?.message ?? e.message ?? "");
        if (refused) return refused;
      }
      throw toForgeError(err, what, this.#errors);
    }
    return this.#newHead(id, number, expectedHeadSha);
  }

  /** After an accepted update: the new head if `updateBranchPolls` re-reads find it moved. */
  async #newHead(id: RepoId, number: number, expectedHeadSha: string): Promise<UpdateBranchResult> {
    if (this.#polls === 0) return { updated: true };
    let head = expectedHeadSha;
    for (let i = 0; i < this.#polls; i++) {
      if (i > 0) await this.#sleep(this.#pollMs);
      head = (await this.getPullRequest(id.full, number)).headSha ?? head;
      if (head !== expectedHeadSha) return { updated: true, headSha: head };
    }
    return { updated: true };
  }

  /** `PATCH /repos/{o}/{r}/pulls/{n}` with `state: closed`. */
  async closePullRequest(repo: string, number: number): Promise<void> {
    const id = this.#id(repo);
    await this.#call(`closing pull request #${number} of ${id.full}`, () =>
      this.#octokit.rest.pulls.update({
        owner: id.owner,
        repo: id.name,
        pull_number: number,
        state: "closed",
      }),
    );
  }

  /**
   * `PATCH /repos/{o}/{r}/pulls/{n}` (octokit `pulls.update`) with `title` and/or `body`. A new
   * body keeps the hidden session marker the PR was opened with, so `sessionId` still reads
   * back: the PR is read first (one more request) to learn it. Request budget: 1 for a title
   * alone, 2 with a body.
   * @returns the pull request after the change.
   * @throws {GithubForgeError} a 404 when there is no such pull request (or the credentials
   *   cannot see it); a blank `title`, or neither field given, before any request.
   */
  async updatePullRequest(repo: string, number: number, patch: PullRequestPatch): Promise<PullRequest> {
    const id = this.#id(repo);
    const where = `pull request #${number} of ${id.full}`;
    if (patch.title === undefined && patch.body === undefined)
      throw new GithubForgeError(`GitHub: nothing to change on ${where}: give a title, a body or both`, 0);
    if (patch.title !== undefined && (typeof patch.title !== "string" || !patch.title.trim()))
      throw new GithubForgeError(`GitHub: the new title of ${where} is blank; give a title with text`, 0);
    if (patch.body !== undefined && typeof patch.body !== "string")
      throw new GithubForgeError(`GitHub: the new body of ${where} must be a string`, 0);
    let body: string | undefined;
    if (patch.body !== undefined) {
      const cur = await this.#call(`updating ${where} (reading its session marker)`, () =>
        this.#octokit.rest.pulls.get({ owner: id.owner, repo: id.name, pull_number: number }),
      );
      body = withSessionMarker(patch.body, toPullRequest(id.full, cur.data as RestPullRequest).sessionId);
    }
    const r = await this.#call(`updating ${where}`, () =>
      this.#octokit.rest.pulls.update({
        owner: id.owner,
        repo: id.name,
        pull_number: number,
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(body !== undefined ? { body } : {}),
      }),
    );
    return toPullRequest(id.full, r.data as RestPullRequest);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimer(ms, resolve));
  }
}

/**
 * GitHub's refusals of update-branch (REST 422 `message`, GraphQL `updatePullRequestBranch`
 * error messages) as results: "expected head sha didn't match current head ref" →
 * `head_moved`, "merge conflict between base and head" → `conflict`, "There are no new
 * commits on the base branch." → `up_to_date`. `undefined` for anything else.
 */
export function updateBranchRefusal(detail: string): UpdateBranchResult | undefined {
  if (/expected head (sha|oid)|head branch was modified/i.test(detail))
    return { updated: false, reason: "head_moved", detail };
  if (/conflict/i.test(detail)) return { updated: false, reason: "conflict", detail };
  if (/no new commits/i.test(detail)) return { updated: false, reason: "up_to_date", detail };
  return undefined;
}

/**
 * Default git URL for an API URL: `https://api.github.com` → `https://github.com/{o}/{r}.git`;
 * Enterprise `https://HOST/api/v3` → `https://HOST/{o}/{r}.git`.
 */
export function defaultGitUrl(apiUrl: string): (owner: string, repo: string) => string {
  const u = new URL(apiUrl);
  const host = u.hostname === "api.github.com" ? "github.com" : u.host;
  return (owner, repo) => `${u.protocol}//${host}/${owner}/${repo}.git`;
}
