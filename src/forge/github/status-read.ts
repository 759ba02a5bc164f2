/**
 * The GitHub forge's paged status read (`listPullRequestStatuses`): identify the open pull
 * requests, read their statuses 50 at a time in aliased GraphQL queries, and page through
 * check contexts only for pull requests with more than 100.
 */
import type { CheckResult, PullRequestStatus } from "../types.ts";
import type { ErrorContext } from "./batch-scope.ts";
import type { NightshiftOctokit } from "./client.ts";
import { notFoundError, toForgeError } from "./errors.ts";
import { type RepoId, toCheck, toStatus } from "./mapping.ts";
import {
  CONTEXTS_PAGE_QUERY,
  type ContextNode,
  type ContextsConnection,
  type ContextsPageReply,
  type IdentifyPullRequestsReply,
  identifyPullRequestsQuery,
  LIST_PAGE_SIZE,
  OPEN_PULL_REQUESTS_QUERY,
  type OpenPullRequestsReply,
  type PullRequestIdent,
  STATUS_CHUNK_SIZE,
  type StatusReply,
  statusQuery,
} from "./queries.ts";

/** What the status read needs of the forge: its client, its error wording and where node ids go. */
export interface StatusReadContext {
  octokit: NightshiftOctokit;
  /** A GraphQL query whose failure becomes a `GithubForgeError` about `what`. */
  graphql<T>(what: string, query: string, variables: Record<string, unknown>): Promise<T>;
  errors: ErrorContext;
  /** Called with each open pull request's node id, for later mutations without a lookup. */
  onNodeId(full: string, number: number, nodeId: string): void;
}

/**
 * Open pull requests of `id` (or those in `numbers`) with mergeability, merge state, checks
 * (required ones marked by `isRequired`), diff size and `behindBy`, in few GraphQL requests:
 * 1. identify the open PRs (`pullRequests(states: OPEN, first: 100)` pages, or aliases for
 *    `numbers`), which gives their numbers and head branches;
 * 2. per 50 PRs one request with aliases `p0…p49`: each PR's fields, its head commit's
 *    `statusCheckRollup.contexts` (first 100, `isRequired(pullRequestNumber:)`) and, for
 *    heads in the same repository, `baseRef.compare(headRef:)` for `behindBy` — GitHub says
 *    `BEHIND` only when branch protection requires up-to-date branches;
 * 3. further context pages only for PRs with more than 100 checks.
 */
export async function readPullRequestStatuses(
  ctx: StatusReadContext,
  id: RepoId,
  opts: { numbers?: number[] } = {},
): Promise<PullRequestStatus[]> {
  const idents = opts.numbers ? await identify(ctx, id, opts.numbers) : await listOpen(ctx, id);
  const out: PullRequestStatus[] = [];
  for (let i = 0; i < idents.length; i += STATUS_CHUNK_SIZE) {
    const chunk = idents.slice(i, i + STATUS_CHUNK_SIZE);
    const compare = chunk.map((p) => !p.isCrossRepository);
    const variables: Record<string, unknown> = { owner: id.owner, name: id.name };
    chunk.forEach((p, k) => {
      variables[`n${k}`] = p.number;
      if (compare[k]) variables[`h${k}`] = p.headRefName;
    });
    const r = await ctx.graphql<StatusReply>(
      `reading the status of ${chunk.length} pull request(s) #${chunk[0]!.number}…#${chunk[chunk.length - 1]!.number} of ${id.full}`,
      statusQuery(compare),
      variables,
    );
    for (let k = 0; k < chunk.length; k++) {
      const node = r.repository?.[`p${k}`];
      if (!node || node.state !== "OPEN") continue; // closed between the two steps
      const commit = node.commits.nodes?.[0]?.commit;
      const contexts = commit?.statusCheckRollup?.contexts;
      const checks = contexts ? await allContexts(ctx, id, node.number, commit.oid, contexts) : [];
      out.push(toStatus(id.full, node, checks));
      ctx.onNodeId(id.full, node.number, node.id);
    }
  }
  return out;
}

async function listOpen(ctx: StatusReadContext, id: RepoId): Promise<PullRequestIdent[]> {
  const out: PullRequestIdent[] = [];
  let after: string | null = null;
  do {
    const r: OpenPullRequestsReply = await ctx.graphql<OpenPullRequestsReply>(
      `listing open pull requests of ${id.full}`,
      OPEN_PULL_REQUESTS_QUERY,
      { owner: id.owner, name: id.name, after },
    );
    if (!r.repository) throw notFoundError(id);
    const page = r.repository.pullRequests;
    for (const n of page.nodes ?? []) if (n) out.push(n);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return out;
}

async function identify(ctx: StatusReadContext, id: RepoId, numbers: number[]): Promise<PullRequestIdent[]> {
  const unique = [...new Set(numbers)];
  const out: PullRequestIdent[] = [];
  for (let i = 0; i < unique.length; i += LIST_PAGE_SIZE) {
    const chunk = unique.slice(i, i + LIST_PAGE_SIZE);
    const variables: Record<string, unknown> = { owner: id.owner, name: id.name };
    chunk.forEach((n, k) => (variables[`n${k}`] = n));
    let r: IdentifyPullRequestsReply;
    try {
      r = await ctx.octokit.graphql<IdentifyPullRequestsReply>(
        identifyPullRequestsQuery(chunk.length),
        variables,
      );
    } catch (err) {
      // A number that is not a PR gives a NOT_FOUND error for its alias next to the others' data.
      const partial = (err as { data?: IdentifyPullRequestsReply; errors?: { type?: string }[] }).data;
      const onlyMissing = (err as { errors?: { type?: string }[] }).errors?.every(
        (e) => e.type === "NOT_FOUND",
      );
      if (!partial?.repository || !onlyMissing) {
        throw toForgeError(err, `reading pull requests of ${id.full}`, ctx.errors);
      }
      r = partial;
    }
    if (!r.repository) throw notFoundError(id);
    chunk.forEach((_, k) => {
      const p = r.repository?.[`p${k}`];
      if (p && p.state === "OPEN") out.push(p);
    });
  }
  return out;
}

/** Every check context of `oid`, starting from the first page already read. */
async function allContexts(
  ctx: StatusReadContext,
  id: RepoId,
  number: number,
  oid: string,
  first: ContextsConnection,
): Promise<CheckResult[]> {
  const nodes: ContextNode[] = [];
  let page: ContextsConnection | undefined = first;
  while (page) {
    for (const n of page.nodes ?? []) if (n) nodes.push(n);
    const after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    if (!after) break;
    const r: ContextsPageReply = await ctx.graphql<ContextsPageReply>(
      `reading checks of pull request #${number} of ${id.full}`,
      CONTEXTS_PAGE_QUERY,
      { owner: id.owner, name: id.name, oid, number, after },
    );
    page = r.repository?.object?.statusCheckRollup?.contexts;
  }
  return nodes.map(toCheck);
}
