/**
 * The fake GitHub's `POST /graphql`. Every document is first checked with `validate()` from
 * `@octokit/graphql-schema` (GitHub's public schema) and refused, as GitHub refuses it, when
 * invalid. Valid documents are executed by graphql-js against that same schema
 * (`buildClientSchema` of the package's introspection JSON), with resolvers over the fake's
 * state: variables, aliases, fragments, enums and non-null rules all behave as on GitHub, and
 * a reply can only carry fields and enum values GitHub's schema has. Connections enforce
 * GitHub's pagination rules (`first` or `last` required, at most 100).
 */
import { schema as githubSchema, validate } from "@octokit/graphql-schema";
import {
  buildClientSchema,
  execute,
  type ExecutionResult,
  type DocumentNode,
  GraphQLError,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type IntrospectionQuery,
  Kind,
  parse,
} from "graphql";
import type { FakeGithub, RequestContext } from "./fake-github.ts";
import type {
  FakeComment,
  FakeContext,
  FakeItem,
  FakePull,
  FakeRepo,
  FakeReviewComment,
  FakeReviewThread,
} from "./state.ts";
import { isoTime } from "./state.ts";

let executable: GraphQLSchema | undefined;

/** GitHub's schema as graphql-js runs it (built once per process, ~40 ms). */
function githubExecutableSchema(): GraphQLSchema {
  executable ??= buildClientSchema(githubSchema.json as unknown as IntrospectionQuery);
  return executable;
}

/** A resolver error in GitHub's shape: `type` (`NOT_FOUND`, …) next to the message. */
function gqlError(type: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { type } });
}

type Json = Record<string, unknown>;

interface GithubError {
  message: string;
  type?: string;
  path?: readonly (string | number)[];
  locations?: readonly { line: number; column: number }[];
  extensions?: Json;
}

/**
 * Answers one GraphQL request body (`{query, variables, operationName}`) the way GitHub does:
 * HTTP 200 with `{data, errors}`; invalid documents get `{errors}` only.
 */
export async function handleGraphql(fake: FakeGithub, ctx: RequestContext, body: Json): Promise<Json> {
  const query = body.query;
  if (typeof query !== "string" || !query.trim()) {
    return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  }
  let problems: readonly GraphQLError[];
  try {
    problems = validate(query);
  } catch (err) {
    const e = err as GraphQLError;
    fake.rejectedDocuments.push({ query, errors: [e.message] });
    return { errors: [{ message: e.message, ...(e.locations ? { locations: e.locations } : {}) }] };
  }
  if (problems.length > 0) {
    fake.rejectedDocuments.push({ query, errors: problems.map((p) => p.message) });
    return {
      errors: problems.map((p) => ({
        message: p.message,
        ...(p.locations ? { locations: p.locations } : {}),
        extensions: { code: "graphqlValidation" },
      })),
    };
  }
  const document = parse(query);
  const operationName = typeof body.operationName === "string" ? body.operationName : undefined;
  const fields = mutationFields(document, operationName);
  if (fields) ctx.mutations = fields;
  const result: ExecutionResult = await execute({
    schema: githubExecutableSchema(),
    document,
    rootValue: rootValue(fake, ctx),
    contextValue: ctx,
    variableValues: (body.variables as Json | undefined) ?? {},
    operationName,
  });
  const out: Json = {};
  if (result.data !== undefined) out.data = result.data;
  if (result.errors?.length) {
    out.errors = result.errors.map((e): GithubError => {
      const type = e.extensions?.type;
      return {
        message: e.message,
        ...(typeof type === "string" ? { type } : {}),
        ...(e.path ? { path: e.path } : {}),
        ...(e.locations ? { locations: e.locations } : {}),
      };
    });
  }
  return out;
}

/** The root fields of the mutation `document` runs (one per alias), or null when it runs a query. */
function mutationFields(document: DocumentNode, operationName: string | undefined): string[] | null {
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
  if (!op || op.operation !== "mutation") return null;
  return op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
}

// -----------------------------------------------------------------------------------------
// Connections

interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

const cursorOf = (i: number) => Buffer.from(`cursor:v2:${i}`).toString("base64");

function indexOf(cursor: string, name: string): number {
  const m = /^cursor:v2:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
  if (!m)
    throw gqlError(
      "INVALID_CURSOR_ARGUMENTS",
      `\`${cursor}\` does not appear to be a valid cursor for the \`${name}\` connection.`,
    );
  return Number(m[1]);
}

/**
 * A GitHub connection over `length` items (`at(i)` gives item i, possibly a promise) with
 * GitHub's rules: `first` or `last` required, not both, each 0..100; cursors opaque.
 */
function connection(
  length: number,
  at: (i: number) => unknown,
  args: ConnectionArgs,
  info: GraphQLResolveInfo,
): Json {
  const name = info.fieldName;
  const first = args.first ?? null;
  const last = args.last ?? null;
  if (first === null && last === null) {
    throw gqlError(
      "MISSING_PAGINATION_BOUNDARIES",
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
    );
  }
  if (first !== null && last !== null) {
    throw gqlError(
      "INVALID_PAGINATION",
      `Passing both \`first\` and \`last\` to paginate the \`${name}\` connection is not supported.`,
    );
  }
  for (const [arg, v] of [
    ["first", first],
    ["last", last],
  ] as const) {
    if (v !== null && (v < 0 || v > 100)) {
      throw gqlError(
        "EXCESSIVE_PAGINATION",
        `Requesting ${v} records on the \`${name}\` connection exceeds the \`${arg}\` limit of 100 records.`,
      );
    }
  }
  let start = args.after ? indexOf(args.after, name) + 1 : 0;
  let end = args.before ? Math.min(indexOf(args.before, name), length) : length;
  start = Math.min(start, end);
  if (first !== null) end = Math.min(end, start + first);
  else if (last !== null) start = Math.max(start, end - last);
  const indices = Array.from({ length: Math.max(end - start, 0) }, (_, k) => start + k);
  return {
    totalCount: length,
    nodes: indices.map(at),
    edges: indices.map((i) => ({ cursor: cursorOf(i), node: at(i) })),
    pageInfo: {
      hasNextPage: end < length,
      hasPreviousPage: start > 0,
      startCursor: indices.length ? cursorOf(indices[0]!) : null,
      endCursor: indices.length ? cursorOf(indices[indices.length - 1]!) : null,
    },
  };
}

function list<T>(items: readonly T[], view: (t: T) => unknown) {
  return (args: ConnectionArgs, _ctx: unknown, info: GraphQLResolveInfo) =>
    connection(items.length, (i) => view(items[i]!), args, info);
}

// -----------------------------------------------------------------------------------------
// Views: plain objects whose fields are values or resolver functions, with `__typename` for
// interfaces and unions (graphql-js's default type resolver reads it).

/** An `Actor`: GitHub names bots without the `[bot]` suffix in GraphQL. */
function actor(login: string): Json {
  const bot = login.endsWith("[bot]");
  return { __typename: bot ? "Bot" : "User", login: bot ? login.slice(0, -5) : login };
}

function stableId(prefix: string, key: string): string {
  return `${prefix}_kw${Buffer.from(key).toString("base64url")}`;
}

function rootValue(fake: FakeGithub, ctx: RequestContext): Json {
  return {
    viewer: { __typename: "User", login: ctx.login, id: stableId("U", ctx.login) },
    repository: ({ owner, name }: { owner: string; name: string }) => {
      const repo = fake.findRepo(owner, name);
      if (!repo)
        throw gqlError("NOT_FOUND", `Could not resolve to a Repository with the name '${owner}/${name}'.`);
      return repoView(fake, ctx, repo);
    },
    node: ({ id }: { id: string }) => {
      const found = fake.findNode(id);
      if (!found) throw gqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`);
      return found.thread ? threadView(found.thread) : pullView(fake, ctx, found.repo, found.pr);
    },
    convertPullRequestToDraft: ({ input }: { input: { pullRequestId: string; clientMutationId?: string } }) =>
      setDraft(fake, ctx, input, true),
    markPullRequestReadyForReview: ({
      input,
    }: {
      input: { pullRequestId: string; clientMutationId?: string };
    }) => setDraft(fake, ctx, input, false),
    addComment: ({ input }: { input: { subjectId: string; body: string; clientMutationId?: string } }) =>
      addComment(fake, ctx, input),
    updatePullRequestBranch: ({
      input,
    }: {
      input: {
        pullRequestId: string;
        expectedHeadOid?: string | null;
        updateMethod?: "MERGE" | "REBASE" | null;
        clientMutationId?: string;
      };
    }) => updatePullRequestBranch(fake, ctx, input),
  };
}

/**
 * `addComment` on an issue or pull request node id: the same issue comment as REST `POST
 * …/issues/{n}/comments`, by the token's user. A blank body is refused (`UNPROCESSABLE`).
 */
function addComment(
  fake: FakeGithub,
  ctx: RequestContext,
  input: { subjectId: string; body: string; clientMutationId?: string },
): Json {
  const found = fake.findSubject(input.subjectId);
  if (!found) {
    throw gqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${input.subjectId}'`);
  }
  if (!input.body.trim()) throw gqlError("UNPROCESSABLE", "Body can't be blank");
  const { repo, item } = found;
  const c = fake.addComment(repo.fullName, item.number, { body: input.body, user: ctx.login });
  return {
    clientMutationId: input.clientMutationId ?? null,
    commentEdge: {
      __typename: "IssueCommentEdge",
      cursor: cursorOf(item.comments.length - 1),
      node: issueCommentView(c),
    },
    subject: subjectView(fake, ctx, repo, item),
    timelineEdge: null,
  };
}

/**
 * `updatePullRequestBranch`: the fake's update-branch (a real merge commit of the base into the
 * head, compare-and-swap on `expectedHeadOid`), refused with the messages GitHub gives, as
 * `UNPROCESSABLE` errors on the field's alias: "expected head sha didn't match current head
 * ref.", "merge conflict between base and head", "There are no new commits on the base
 * branch.", "Pull request is not open". `updateMethod: REBASE` is not modelled (refused, and
 * recorded in `fake.unhandled`).
 */
async function updatePullRequestBranch(
  fake: FakeGithub,
  ctx: RequestContext,
  input: {
    pullRequestId: string;
    expectedHeadOid?: string | null;
    updateMethod?: "MERGE" | "REBASE" | null;
    clientMutationId?: string;
  },
): Promise<Json> {
  const found = fake.findNode(input.pullRequestId);
  if (!found || found.thread) {
    throw gqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${input.pullRequestId}'`);
  }
  if (input.updateMethod === "REBASE") {
    fake.unhandled.push("GraphQL updatePullRequestBranch(updateMethod: REBASE)");
    throw gqlError("UNPROCESSABLE", "fake GitHub: updateMethod REBASE is not modelled");
  }
  const { repo, pr } = found;
  if (pr.state !== "open") throw gqlError("UNPROCESSABLE", "Pull request is not open");
  const r = await fake.updateBranch(repo, pr, input.expectedHeadOid ?? undefined);
  if (!r.ok) throw gqlError("UNPROCESSABLE", r.message);
  // Later fields of the same document read the moved branch.
  ctx.branches.delete(repo);
  return { clientMutationId: input.clientMutationId ?? null, pullRequest: pullView(fake, ctx, repo, pr) };
}

/** The `subject` of `addComment`: the pull request, or an issue with its plain fields. */
function subjectView(fake: FakeGithub, ctx: RequestContext, repo: FakeRepo, item: FakeItem): Json {
  if (item.kind === "pull") return pullView(fake, ctx, repo, item);
  return {
    __typename: "Issue",
    id: item.nodeId,
    databaseId: item.id,
    number: item.number,
    title: item.title,
    body: item.body,
    state: item.state === "open" ? "OPEN" : "CLOSED",
    createdAt: isoTime(item.createdAt),
    updatedAt: isoTime(item.updatedAt),
    author: actor(item.user),
  };
}

function issueCommentView(c: FakeComment): Json {
  return {
    __typename: "IssueComment",
    id: c.nodeId,
    databaseId: c.id,
    fullDatabaseId: String(c.id),
    body: c.body,
    createdAt: isoTime(c.createdAt),
    updatedAt: isoTime(c.updatedAt),
    author: actor(c.user),
  };
}

function setDraft(
  fake: FakeGithub,
  ctx: RequestContext,
  input: { pullRequestId: string; clientMutationId?: string },
  draft: boolean,
): Json {
  const found = fake.findNode(input.pullRequestId);
  if (!found || found.thread) {
    throw gqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${input.pullRequestId}'`);
  }
  if (found.pr.state !== "open") throw gqlError("UNPROCESSABLE", "Pull request is closed.");
  found.pr.draft = draft;
  found.pr.updatedAt = fake.now();
  return {
    clientMutationId: input.clientMutationId ?? null,
    pullRequest: pullView(fake, ctx, found.repo, found.pr),
  };
}

function repoView(fake: FakeGithub, ctx: RequestContext, repo: FakeRepo): Json {
  const pulls = () => [...repo.items.values()].filter((i): i is FakePull => i.kind === "pull");
  return {
    __typename: "Repository",
    id: repo.nodeId,
    name: repo.name,
    nameWithOwner: repo.fullName,
    owner: actor(repo.owner),
    defaultBranchRef: () => refView(fake, ctx, repo, repo.defaultBranch),
    ref: ({ qualifiedName }: { qualifiedName: string }) =>
      refView(fake, ctx, repo, qualifiedName.replace(/^refs\/heads\//, "")),
    object: async ({ oid, expression }: { oid?: string; expression?: string }) => {
      const sha = oid ?? (expression ? (await fake.branches(ctx, repo)).get(expression) : undefined);
      return sha && (await fake.git.hasCommit(repo.bare, sha)) ? commitView(repo, sha) : null;
    },
    pullRequests: (
      args: ConnectionArgs & {
        states?: string[] | null;
        baseRefName?: string | null;
        headRefName?: string | null;
        labels?: string[] | null;
        orderBy?: { field: "CREATED_AT" | "UPDATED_AT"; direction: "ASC" | "DESC" } | null;
      },
      _c: unknown,
      info: GraphQLResolveInfo,
    ) => {
      const stateOf = (p: FakePull) => (p.mergedAt ? "MERGED" : p.state === "open" ? "OPEN" : "CLOSED");
      const key = args.orderBy?.field === "UPDATED_AT" ? "updatedAt" : "createdAt";
      const dir = args.orderBy?.direction === "DESC" ? -1 : 1;
      const items = pulls()
        .filter((p) => !args.states?.length || args.states.includes(stateOf(p)))
        .filter((p) => !args.baseRefName || p.base === args.baseRefName)
        .filter((p) => !args.headRefName || p.head === args.headRefName)
        .filter((p) => !args.labels?.length || args.labels.some((l) => p.labels.includes(l)))
        .sort((a, b) => dir * (a[key] - b[key] || a.number - b.number));
      return connection(items.length, (i) => pullView(fake, ctx, repo, items[i]!), args, info);
    },
    pullRequest: ({ number }: { number: number }) => {
      const it = repo.items.get(number);
      if (!it || it.kind !== "pull")
        throw gqlError("NOT_FOUND", `Could not resolve to a PullRequest with the number of ${number}.`);
      return pullView(fake, ctx, repo, it);
    },
  };
}

async function refView(
  fake: FakeGithub,
  ctx: RequestContext,
  repo: FakeRepo,
  branch: string,
): Promise<Json | null> {
  const sha = (await fake.branches(ctx, repo)).get(branch);
  if (!sha) return null;
  return {
    __typename: "Ref",
    id: stableId("REF", `${repo.fullName}:${branch}`),
    name: branch,
    prefix: "refs/heads/",
    target: commitView(repo, sha),
    compare: async ({ headRef }: { headRef: string }) => {
      const name = headRef.replace(/^refs\/heads\//, "");
      const headSha =
        (await fake.branches(ctx, repo)).get(name) ??
        ((await fake.git.hasCommit(repo.bare, headRef)) ? headRef : undefined);
      if (!headSha) return null;
      const a = await fake.git.analyse(repo.bare, sha, headSha);
      const status =
        a.aheadBy === 0 && a.behindBy === 0
          ? "IDENTICAL"
          : a.behindBy === 0
            ? "AHEAD"
            : a.aheadBy === 0
              ? "BEHIND"
              : "DIVERGED";
      return {
        __typename: "Comparison",
        id: stableId("CMP", `${sha}...${headSha}`),
        aheadBy: a.aheadBy,
        behindBy: a.behindBy,
        status,
        baseTarget: commitView(repo, sha),
        headTarget: commitView(repo, headSha),
      };
    },
  };
}

function rollupState(list: readonly FakeContext[]): string {
  const bad = (c: FakeContext) =>
    c.kind === "check_run"
      ? c.status === "COMPLETED" && !["SUCCESS", "NEUTRAL", "SKIPPED"].includes(c.conclusion ?? "")
      : c.state === "FAILURE" || c.state === "ERROR";
  const pending = (c: FakeContext) =>
    c.kind === "check_run" ? c.status !== "COMPLETED" : c.state === "PENDING" || c.state === "EXPECTED";
  if (list.some(bad))
    return list.some((c) => c.kind === "status" && c.state === "ERROR") ? "ERROR" : "FAILURE";
  if (list.some(pending)) return "PENDING";
  return "SUCCESS";
}

function commitView(repo: FakeRepo, oid: string): Json {
  const self: Json = {
    __typename: "Commit",
    id: stableId("C", `${repo.fullName}:${oid}`),
    oid,
    abbreviatedOid: oid.slice(0, 7),
    statusCheckRollup: () => {
      const contexts = repo.contexts.get(oid) ?? [];
      if (contexts.length === 0) return null;
      return {
        __typename: "StatusCheckRollup",
        id: stableId("SCR", `${repo.fullName}:${oid}`),
        state: rollupState(contexts),
        commit: self,
        contexts: list(contexts, (c) => contextView(repo, c)),
      };
    },
  };
  return self;
}

/** Which pull request `isRequired(pullRequestId:|pullRequestNumber:)` asks about. */
function requiredFor(
  repo: FakeRepo,
  args: { pullRequestId?: string | null; pullRequestNumber?: number | null },
): FakePull {
  if (args.pullRequestNumber != null) {
    const it = repo.items.get(args.pullRequestNumber);
    if (it?.kind === "pull") return it;
    throw gqlError(
      "NOT_FOUND",
      `Could not resolve to a PullRequest with the number of ${args.pullRequestNumber}.`,
    );
  }
  if (args.pullRequestId != null) {
    for (const it of repo.items.values())
      if (it.kind === "pull" && it.prNodeId === args.pullRequestId) return it;
    throw gqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${args.pullRequestId}'`);
  }
  throw gqlError("UNPROCESSABLE", "`isRequired` requires either `pullRequestId` or `pullRequestNumber`.");
}

function contextView(repo: FakeRepo, c: FakeContext): Json {
  if (c.kind === "check_run") {
    return {
      __typename: "CheckRun",
      id: c.nodeId,
      databaseId: c.id,
      name: c.name,
      status: c.status,
      conclusion: c.conclusion,
      detailsUrl: c.detailsUrl,
      title: c.title,
      summary: c.summary,
      text: c.text,
      isRequired: (args: { pullRequestId?: string; pullRequestNumber?: number }) => {
        return repo.protection.get(requiredFor(repo, args).base)?.requiredContexts.includes(c.name) ?? false;
      },
    };
  }
  return {
    __typename: "StatusContext",
    id: c.nodeId,
    context: c.context,
    state: c.state,
    targetUrl: c.targetUrl,
    description: c.description,
    createdAt: isoTime(c.createdAt),
    isRequired: (args: { pullRequestId?: string; pullRequestNumber?: number }) => {
      return repo.protection.get(requiredFor(repo, args).base)?.requiredContexts.includes(c.context) ?? false;
    },
  };
}

function pullView(fake: FakeGithub, ctx: RequestContext, repo: FakeRepo, pr: FakePull): Json {
  let loaded: ReturnType<typeof load> | undefined;
  async function load() {
    const x = await fake.analysePull(ctx, repo, pr);
    return { ...x, mergeable: pr.state === "open" ? fake.mergeable(pr, x.analysis) : null };
  }
  const info = () => (loaded ??= load());
  const zero = "0".repeat(40);
  let commitList: Promise<string[]> | undefined;
  return {
    __typename: "PullRequest",
    id: pr.prNodeId,
    databaseId: pr.id,
    number: pr.number,
    title: pr.title,
    body: pr.body,
    url: `${fake.url}/${repo.fullName}/pull/${pr.number}`,
    state: pr.mergedAt ? "MERGED" : pr.state === "open" ? "OPEN" : "CLOSED",
    closed: pr.state === "closed",
    merged: pr.mergedAt !== null,
    isDraft: pr.draft,
    headRefName: pr.head,
    baseRefName: pr.base,
    isCrossRepository: false,
    createdAt: isoTime(pr.createdAt),
    updatedAt: isoTime(pr.updatedAt),
    closedAt: pr.closedAt ? isoTime(pr.closedAt) : null,
    mergedAt: pr.mergedAt ? isoTime(pr.mergedAt) : null,
    author: actor(pr.user),
    headRefOid: async () => (await info()).headSha ?? zero,
    baseRefOid: async () => (await info()).baseSha ?? zero,
    mergeable: async () => {
      const m = (await info()).mergeable;
      return m === null ? "UNKNOWN" : m ? "MERGEABLE" : "CONFLICTING";
    },
    mergeStateStatus: async () => {
      const x = await info();
      return fake.mergeStateStatus(repo, pr, x.mergeable, x.analysis, x.headSha);
    },
    additions: async () => (await info()).analysis?.additions ?? 0,
    deletions: async () => (await info()).analysis?.deletions ?? 0,
    changedFiles: async () => (await info()).analysis?.changedFiles ?? 0,
    labels: list(pr.labels, (name) => ({
      __typename: "Label",
      id: stableId("LA", `${repo.fullName}:${name}`),
      name,
      color: "ededed",
    })),
    headRef: () => refView(fake, ctx, repo, pr.head),
    baseRef: () => refView(fake, ctx, repo, pr.base),
    commits: async (args: ConnectionArgs, _c: unknown, gi: GraphQLResolveInfo) => {
      const x = await info();
      if (!x.headSha || !x.baseSha || !x.analysis) return connection(0, () => null, args, gi);
      const { headSha, baseSha } = x;
      const count = x.analysis.aheadBy;
      const node = (oid: string) => ({
        __typename: "PullRequestCommit",
        id: stableId("PURC", `${pr.prNodeId}:${oid}`),
        commit: commitView(repo, oid),
      });
      // The head is the last commit; only other positions need the list (`rev-list`).
      return connection(
        count,
        (i) =>
          i === count - 1
            ? node(headSha)
            : (commitList ??= fake.git
                .git(repo.bare, ["rev-list", "--reverse", `${baseSha}..${headSha}`])
                .then((o) => o.split("\n"))).then((l) => node(l[i]!)),
        args,
        gi,
      );
    },
    statusCheckRollup: async () => {
      const x = await info();
      return x.headSha ? (commitView(repo, x.headSha).statusCheckRollup as () => unknown)() : null;
    },
    reviewThreads: list(pr.reviewThreads, threadView),
    // Without a review requirement GitHub reports no decision; approvals are all the fake models.
    reviewDecision: () =>
      repo.protection.get(pr.base)?.requireReviews ? (pr.approved ? "APPROVED" : "REVIEW_REQUIRED") : null,
  };
}

function threadView(t: FakeReviewThread): Json {
  return {
    __typename: "PullRequestReviewThread",
    id: t.nodeId,
    isResolved: t.isResolved,
    isOutdated: false,
    path: t.path,
    line: t.line,
    comments: list(t.comments, reviewCommentView),
  };
}

function reviewCommentView(c: FakeReviewComment): Json {
  return {
    __typename: "PullRequestReviewComment",
    id: c.nodeId,
    databaseId: c.id,
    body: c.body,
    createdAt: isoTime(c.createdAt),
    author: actor(c.user),
  };
}
