/**
 * The fake GitHub's REST endpoints: exactly those nightshift's GitHub adapter calls, plus the
 * commit-ref reads (`…/commits/{ref}/check-runs`, `…/commits/{ref}/status`) of
 * bench/guard-requests' PRodder baseline. Replies
 * are typed with `@octokit/openapi-types` (GitHub's OpenAPI description), so a field the
 * adapter reads must exist in GitHub's real reply shape.
 */
import type { components, operations } from "@octokit/openapi-types";
import type { FakeGithub, RequestContext } from "./fake-github.ts";
import {
  type FakeCheckRun,
  type FakeComment,
  type FakeContext,
  type FakeItem,
  type FakePull,
  type FakeRepo,
  type FakeStatus,
  isoTime,
  nodeId,
} from "./state.ts";

type Schemas = components["schemas"];
type SimpleUser = Schemas["simple-user"];
type RepoRef = Pick<
  Schemas["repository"],
  "id" | "node_id" | "name" | "full_name" | "private" | "html_url" | "url" | "default_branch"
> & {
  owner: SimpleUser;
};
type Branch = Omit<Schemas["pull-request"]["head"], "repo"> & { repo: RepoRef };
/** `GET /repos/{o}/{r}/pulls/{n}`: GitHub's full shape, with head/base `repo` trimmed to common fields. */
type PullJson = Omit<Schemas["pull-request"], "head" | "base"> & { head: Branch; base: Branch };
/** `GET /repos/{o}/{r}/pulls`: `pull-request-simple`, head/base trimmed likewise. */
type PullSimpleJson = Omit<Schemas["pull-request-simple"], "head" | "base"> & { head: Branch; base: Branch };
type IssueJson = Schemas["issue"];
type CommentJson = Schemas["issue-comment"];
type UpdateBranchJson = operations["pulls/update-branch"]["responses"][202]["content"]["application/json"];
/**
 * `GET /repos/{o}/{r}/commits/{ref}/check-runs`. `conclusion` also takes `stale` and
 * `startup_failure`, which GitHub sends but its OpenAPI description leaves out.
 */
type CheckRunJson = Omit<Schemas["check-run"], "conclusion"> & {
  conclusion: Schemas["check-run"]["conclusion"] | "stale" | "startup_failure";
};
type CheckRunsJson = Omit<
  operations["checks/list-for-ref"]["responses"][200]["content"]["application/json"],
  "check_runs"
> & { check_runs: CheckRunJson[] };
/** `GET /repos/{o}/{r}/commits/{ref}/status`, with `repository` trimmed to common fields like head/base. */
type CombinedStatusJson = Omit<Schemas["combined-commit-status"], "repository"> & { repository: RepoRef };
type ErrorJson = Schemas["basic-error"] | Schemas["validation-error"];

export interface RestReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestRequest {
  method: string;
  url: URL;
  body: Record<string, unknown>;
  accept: string;
}

const DOCS = "https://docs.github.com/rest";

function error(status: number, message: string, extra: Partial<Schemas["validation-error"]> = {}): RestReply {
  const body: ErrorJson = { message, documentation_url: DOCS, ...extra };
  return { status, body: { ...body, status: String(status) } };
}

const notFound = (): RestReply => error(404, "Not Found");

function user(base: string, login: string): SimpleUser {
  const id = [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 1_000_000;
  return {
    login,
    id,
    node_id: nodeId("U", id),
    avatar_url: `${base}/avatars/${login}`,
    gravatar_id: "",
    url: `${base}/users/${login}`,
    html_url: `${base}/${login}`,
    followers_url: `${base}/users/${login}/followers`,
    following_url: `${base}/users/${login}/following{/other_user}`,
    gists_url: `${base}/users/${login}/gists{/gist_id}`,
    starred_url: `${base}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${base}/users/${login}/subscriptions`,
    organizations_url: `${base}/users/${login}/orgs`,
    repos_url: `${base}/users/${login}/repos`,
    events_url: `${base}/users/${login}/events{/privacy}`,
    received_events_url: `${base}/users/${login}/received_events`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    site_admin: false,
  };
}

function labelJson(base: string, repo: FakeRepo, name: string) {
  const id = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 11) % 1_000_000;
  return {
    id,
    node_id: nodeId("LA", id),
    url: `${base}/repos/${repo.fullName}/labels/${encodeURIComponent(name)}`,
    name,
    description: "",
    color: "ededed",
    default: false,
  };
}

function issueJson(base: string, repo: FakeRepo, it: FakeItem): IssueJson {
  const api = `${base}/repos/${repo.fullName}`;
  return {
    id: it.id,
    node_id: it.nodeId,
    url: `${api}/issues/${it.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${it.number}/labels{/name}`,
    comments_url: `${api}/issues/${it.number}/comments`,
    events_url: `${api}/issues/${it.number}/events`,
    html_url: `${base}/${repo.fullName}/${it.kind === "pull" ? "pull" : "issues"}/${it.number}`,
    number: it.number,
    state: it.state,
    title: it.title,
    body: it.body || null,
    user: user(base, it.user),
    labels: it.labels.map((l) => labelJson(base, repo, l)),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    comments: it.comments.length,
    closed_at: it.closedAt ? isoTime(it.closedAt) : null,
    created_at: isoTime(it.createdAt),
    updated_at: isoTime(it.updatedAt),
    author_association: "OWNER",
    ...(it.kind === "pull"
      ? {
          draft: it.draft,
          pull_request: {
            merged_at: it.mergedAt ? isoTime(it.mergedAt) : null,
            diff_url: `${base}/${repo.fullName}/pull/${it.number}.diff`,
            html_url: `${base}/${repo.fullName}/pull/${it.number}`,
            patch_url: `${base}/${repo.fullName}/pull/${it.number}.patch`,
            url: `${api}/pulls/${it.number}`,
          },
        }
      : {}),
  };
}

function commentJson(base: string, repo: FakeRepo, number: number, c: FakeComment): CommentJson {
  const api = `${base}/repos/${repo.fullName}`;
  return {
    id: c.id,
    node_id: c.nodeId,
    url: `${api}/issues/comments/${c.id}`,
    html_url: `${base}/${repo.fullName}/issues/${number}#issuecomment-${c.id}`,
    body: c.body,
    user: user(base, c.user),
    created_at: isoTime(c.createdAt),
    updated_at: isoTime(c.updatedAt),
    issue_url: `${api}/issues/${number}`,
    author_association: "OWNER",
  };
}

function repoRef(base: string, repo: FakeRepo): RepoRef {
  return {
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: repo.fullName,
    private: false,
    html_url: `${base}/${repo.fullName}`,
    url: `${base}/repos/${repo.fullName}`,
    default_branch: repo.defaultBranch,
    owner: user(base, repo.owner),
  };
}

function pullSimpleJson(
  base: string,
  repo: FakeRepo,
  pr: FakePull,
  headSha: string,
  baseSha: string,
): PullSimpleJson {
  const api = `${base}/repos/${repo.fullName}`;
  const link = (href: string) => ({ href });
  const branch = (ref: string, sha: string): Branch => ({
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: user(base, repo.owner),
    repo: repoRef(base, repo),
  });
  return {
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: pr.prNodeId,
    html_url: `${base}/${repo.fullName}/pull/${pr.number}`,
    diff_url: `${base}/${repo.fullName}/pull/${pr.number}.diff`,
    patch_url: `${base}/${repo.fullName}/pull/${pr.number}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${headSha}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: user(base, pr.user),
    body: pr.body || null,
    labels: pr.labels.map((l) => labelJson(base, repo, l)),
    milestone: null,
    created_at: isoTime(pr.createdAt),
    updated_at: isoTime(pr.updatedAt),
    closed_at: pr.closedAt ? isoTime(pr.closedAt) : null,
    merged_at: pr.mergedAt ? isoTime(pr.mergedAt) : null,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branch(pr.head, headSha),
    base: branch(pr.base, baseSha),
    _links: {
      self: link(`${api}/pulls/${pr.number}`),
      html: link(`${base}/${repo.fullName}/pull/${pr.number}`),
      issue: link(`${api}/issues/${pr.number}`),
      comments: link(`${api}/issues/${pr.number}/comments`),
      review_comments: link(`${api}/pulls/${pr.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      commits: link(`${api}/pulls/${pr.number}/commits`),
      statuses: link(`${api}/statuses/${headSha}`),
    },
    author_association: "OWNER",
    auto_merge: null,
    draft: pr.draft,
  };
}

async function pullJson(
  fake: FakeGithub,
  ctx: RequestContext,
  base: string,
  repo: FakeRepo,
  pr: FakePull,
): Promise<PullJson> {
  const { headSha, baseSha, analysis } = await fake.analysePull(ctx, repo, pr);
  const mergeable = pr.state === "open" ? fake.mergeable(pr, analysis) : null;
  const state = fake.mergeStateStatus(repo, pr, mergeable, analysis, headSha);
  return {
    ...pullSimpleJson(base, repo, pr, headSha ?? "0".repeat(40), baseSha ?? "0".repeat(40)),
    user: user(base, pr.user),
    state: pr.state,
    merged: pr.mergedAt !== null,
    mergeable,
    rebaseable: mergeable,
    mergeable_state: state.toLowerCase(),
    merged_by: null,
    comments: pr.comments.length,
    review_comments: pr.reviewThreads.reduce((n, t) => n + t.comments.length, 0),
    maintainer_can_modify: false,
    commits: analysis?.aheadBy ?? 0,
    additions: analysis?.additions ?? 0,
    deletions: analysis?.deletions ?? 0,
    changed_files: analysis?.changedFiles ?? 0,
  };
}

/**
 * Page `page` of `items` with GitHub's `per_page` (default 30, at most 100) and a `Link`
 * header (`rel="next"`, `"last"`, `"first"`, `"prev"`) that octokit's paginate follows.
 */
function paginate<T>(url: URL, base: string, items: T[]): { page: T[]; headers: Record<string, string> } {
  const per = Math.min(Math.max(Number(url.searchParams.get("per_page") ?? 30) || 30, 1), 100);
  const page = Math.max(Number(url.searchParams.get("page") ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / per), 1);
  const at = (p: number) => {
    const u = new URL(url.pathname + url.search, base);
    u.searchParams.set("per_page", String(per));
    u.searchParams.set("page", String(p));
    return u.toString();
  };
  const links: string[] = [];
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`);
  return {
    page: items.slice((page - 1) * per, page * per),
    headers: links.length ? { link: links.join(", ") } : {},
  };
}

/** Sorts by `sort` (`created` default, or `updated`) and `direction` (default `desc`, GitHub's). */
function sortItems<T extends { createdAt: number; updatedAt: number; number: number }>(
  url: URL,
  items: T[],
): T[] {
  const key = url.searchParams.get("sort") === "updated" ? "updatedAt" : "createdAt";
  const dir = url.searchParams.get("direction") === "asc" ? 1 : -1;
  return [...items].sort((a, b) => dir * (a[key] - b[key] || a.number - b.number));
}

function checkRunJson(
  base: string,
  repo: FakeRepo,
  sha: string,
  c: FakeCheckRun,
  pulls: Schemas["pull-request-minimal"][],
): CheckRunJson {
  const api = `${base}/repos/${repo.fullName}`;
  const started = c.startedAt ?? null;
  return {
    id: c.id,
    head_sha: sha,
    node_id: c.nodeId,
    external_id: String(c.id),
    url: `${api}/check-runs/${c.id}`,
    html_url: `${base}/${repo.fullName}/runs/${c.id}`,
    details_url: c.detailsUrl,
    status: c.status.toLowerCase() as CheckRunJson["status"],
    conclusion: (c.conclusion?.toLowerCase() ?? null) as CheckRunJson["conclusion"],
    started_at: started === null ? null : isoTime(started),
    completed_at: started !== null && c.status === "COMPLETED" ? isoTime(started) : null,
    output: {
      title: c.title,
      summary: c.summary,
      text: c.text,
      annotations_count: 0,
      annotations_url: `${api}/check-runs/${c.id}/annotations`,
    },
    name: c.name,
    check_suite: { id: c.id + 500_000 },
    app: null,
    pull_requests: pulls,
  };
}

/**
 * GitHub's combined state of commit statuses: `failure` if any context is `error` or
 * `failure`, `pending` if there are none or any is pending, else `success`
 * (docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference).
 */
function combinedState(statuses: readonly FakeStatus[]): string {
  if (statuses.some((s) => s.state === "ERROR" || s.state === "FAILURE")) return "failure";
  if (statuses.length === 0 || statuses.some((s) => s.state === "PENDING" || s.state === "EXPECTED"))
    return "pending";
  return "success";
}

/**
 * `GET /repos/{o}/{r}/commits/{ref}/check-runs` and `…/status`. `ref` is a commit sha or a
 * branch name (tags are not modelled).
 */
async function handleCommitRef(
  fake: FakeGithub,
  ctx: RequestContext,
  req: RestRequest,
  repo: FakeRepo,
  ref: string,
  what: "check-runs" | "status",
): Promise<RestReply> {
  const base = fake.url;
  // A sha with checks or statuses is a known commit: no git call needed to resolve it.
  const knownSha = /^[0-9a-f]{40}$/.test(ref) && repo.contexts.has(ref);
  const tips = knownSha && what === "status" ? new Map<string, string>() : await fake.branches(ctx, repo);
  const sha = knownSha
    ? ref
    : (tips.get(ref.replace(/^refs\/heads\//, "")) ??
      ((await fake.git.hasCommit(repo.bare, ref)) ? ref : undefined));
  if (!sha) {
    return what === "status" ? notFound() : error(422, `No commit found for SHA: ${ref}`);
  }
  const contexts: FakeContext[] = repo.contexts.get(sha) ?? [];
  const api = `${base}/repos/${repo.fullName}`;
  if (what === "status") {
    const statuses = contexts.filter((c): c is FakeStatus => c.kind === "status");
    // per_page/page apply to `statuses`; GitHub documents no Link header for this endpoint.
    const { page } = paginate(req.url, base, statuses);
    const body: CombinedStatusJson = {
      state: combinedState(statuses),
      statuses: page.map((s) => ({
        description: s.description,
        id: s.id,
        node_id: s.nodeId,
        state: s.state.toLowerCase(),
        context: s.context,
        target_url: s.targetUrl,
        avatar_url: null,
        url: `${api}/statuses/${sha}`,
        created_at: isoTime(s.createdAt),
        updated_at: isoTime(s.createdAt),
      })),
      sha,
      total_count: statuses.length,
      repository: repoRef(base, repo),
      commit_url: `${api}/commits/${sha}`,
      url: `${api}/commits/${sha}/status`,
    };
    return { status: 200, body };
  }
  let runs = contexts.filter((c): c is FakeCheckRun => c.kind === "check_run");
  // `filter=latest` (the default): the most recent run of each name.
  if (req.url.searchParams.get("filter") !== "all")
    runs = runs.filter((c, i) => !runs.slice(i + 1).some((d) => d.name === c.name));
  const name = req.url.searchParams.get("check_name");
  if (name !== null) runs = runs.filter((c) => c.name === name);
  const status = req.url.searchParams.get("status");
  if (status !== null) runs = runs.filter((c) => c.status.toLowerCase() === status);
  const pulls: Schemas["pull-request-minimal"][] = [...repo.items.values()]
    .filter((i): i is FakePull => i.kind === "pull" && i.state === "open" && tips.get(i.head) === sha)
    .map((p) => {
      const side = (ref: string, s: string) => ({
        ref,
        sha: s,
        repo: { id: repo.id, url: api, name: repo.name },
      });
      return {
        id: p.id,
        number: p.number,
        url: `${api}/pulls/${p.number}`,
        head: side(p.head, sha),
        base: side(p.base, tips.get(p.base) ?? "0".repeat(40)),
      };
    });
  const { page, headers } = paginate(req.url, base, runs);
  const body: CheckRunsJson = {
    total_count: runs.length,
    check_runs: page.map((c) => checkRunJson(base, repo, sha, c, pulls)),
  };
  return { status: 200, headers, body };
}

/** The JSON body of `PATCH /repos/{o}/{r}/pulls/{n}` as GitHub's OpenAPI description types it. */
type PullUpdateBody = NonNullable<operations["pulls/update"]["requestBody"]>["content"]["application/json"];

/**
 * What each field of a pull request update must be, keyed by the OpenAPI body's own fields
 * (a field GitHub adds or drops fails the typecheck here). `body` also takes `null`, as
 * GitHub's schema for issue and pull request bodies does ("… is not a string or null").
 */
const PULL_UPDATE_FIELDS: {
  [K in keyof Required<PullUpdateBody>]: "string" | "string|null" | "boolean" | readonly string[];
} = {
  title: "string",
  body: "string|null",
  state: ["open", "closed"],
  base: "string",
  maintainer_can_modify: "boolean",
};

/** A JSON value as GitHub's (Ruby) schema validator prints it: `nil`, `123`, `"text"`, `false`. */
function rubyInspect(v: unknown): string {
  if (v === null) return "nil";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(rubyInspect).join(", ")}]`;
  if (typeof v === "object")
    return `{${Object.entries(v as object)
      .map(([k, x]) => `${JSON.stringify(k)}=>${rubyInspect(x)}`)
      .join(", ")}}`;
  return String(v);
}

/**
 * GitHub's schema check of a pull request update, before anything changes: a field of the
 * wrong type gets HTTP 422 "Invalid request.\n\nFor 'properties/<field>', <value> is not a
 * string." (the wording of GitHub's replies, e.g. "For 'properties/body', false is not a
 * string or null."). Unknown fields are ignored, as GitHub ignores them. `undefined` when valid.
 */
function invalidPullUpdate(body: Record<string, unknown>): string | undefined {
  for (const [field, kind] of Object.entries(PULL_UPDATE_FIELDS)) {
    if (!(field in body)) continue;
    const v = body[field];
    const bad =
      kind === "string"
        ? typeof v !== "string" && "a string"
        : kind === "string|null"
          ? v !== null && typeof v !== "string" && "a string or null"
          : kind === "boolean"
            ? typeof v !== "boolean" && "a boolean"
            : !(kind as readonly string[]).includes(v as string) &&
              `one of [${(kind as readonly string[]).map((k) => JSON.stringify(k)).join(", ")}]`;
    if (bad) return `Invalid request.\n\nFor 'properties/${field}', ${rubyInspect(v)} is not ${bad}.`;
  }
  return undefined;
}

/**
 * Answers a REST request, or `undefined` when no route matches (the caller records it in
 * `unhandled` and answers 404).
 */
export async function handleRest(
  fake: FakeGithub,
  ctx: RequestContext,
  req: RestRequest,
): Promise<RestReply | undefined> {
  const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(req.url.pathname);
  if (!m) return undefined;
  const repo = fake.findRepo(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
  const rest = m[3] ?? "";
  const commitRef = /^\/commits\/([^/]+)\/(check-runs|status)$/.exec(rest);
  if (commitRef && req.method === "GET") {
    if (!repo) return notFound();
    const ref = decodeURIComponent(commitRef[1]!);
    return handleCommitRef(fake, ctx, req, repo, ref, commitRef[2] as "check-runs" | "status");
  }
  const base = fake.url;
  const route = `${req.method} ${rest.replace(/\/\d+/g, "/:n")}`;
  const num = Number(/\/(\d+)/.exec(rest)?.[1]);
  const known = [
    "POST /issues",
    "GET /issues",
    "GET /issues/:n",
    "GET /issues/:n/comments",
    "POST /issues/:n/comments",
    "POST /pulls",
    "GET /pulls",
    "GET /pulls/:n",
    "PATCH /pulls/:n",
    "PUT /pulls/:n/update-branch",
  ];
  if (!known.includes(route)) return undefined;
  if (!repo) return notFound();
  const str = (k: string) => (typeof req.body[k] === "string" ? (req.body[k] as string) : undefined);

  switch (route) {
    case "POST /issues": {
      const title = str("title");
      if (!title)
        return error(422, "Validation Failed", {
          errors: [{ resource: "Issue", field: "title", code: "missing_field" }],
        });
      const labels = Array.isArray(req.body.labels) ? (req.body.labels as unknown[]).map(String) : [];
      const it = fake.createIssue(repo.fullName, { title, body: str("body") ?? "", user: ctx.login, labels });
      return { status: 201, body: issueJson(base, repo, it) };
    }
    case "GET /issues": {
      const state = req.url.searchParams.get("state") ?? "open";
      const items = [...repo.items.values()].filter((i) => state === "all" || i.state === state);
      const { page, headers } = paginate(req.url, base, sortItems(req.url, items));
      return { status: 200, headers, body: page.map((i) => issueJson(base, repo, i)) };
    }
    case "GET /issues/:n": {
      const it = repo.items.get(num);
      return it ? { status: 200, body: issueJson(base, repo, it) } : notFound();
    }
    case "GET /issues/:n/comments": {
      const it = repo.items.get(num);
      if (!it) return notFound();
      const { page, headers } = paginate(req.url, base, it.comments);
      return { status: 200, headers, body: page.map((c) => commentJson(base, repo, num, c)) };
    }
    case "POST /issues/:n/comments": {
      const it = repo.items.get(num);
      if (!it) return notFound();
      const body = str("body");
      if (!body)
        return error(422, "Validation Failed", {
          errors: [{ resource: "IssueComment", field: "body", code: "missing_field" }],
        });
      const c = fake.addComment(repo.fullName, num, { body, user: ctx.login });
      return { status: 201, body: commentJson(base, repo, num, c) };
    }
    case "POST /pulls": {
      const title = str("title");
      const head = str("head");
      const baseRef = str("base");
      if (!title || !head || !baseRef) {
        return error(422, "Validation Failed", {
          errors: [
            {
              resource: "PullRequest",
              field: !title ? "title" : !head ? "head" : "base",
              code: "missing_field",
            },
          ],
        });
      }
      const tips = await fake.branches(ctx, repo);
      const headName = head.includes(":") ? head.slice(head.indexOf(":") + 1) : head;
      const headSha = tips.get(headName);
      const baseSha = tips.get(baseRef);
      if (!headSha)
        return error(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "head", code: "invalid" }],
        });
      if (!baseSha)
        return error(422, "Validation Failed", {
          errors: [{ resource: "PullRequest", field: "base", code: "invalid" }],
        });
      const dup = [...repo.items.values()].some(
        (i) => i.kind === "pull" && i.state === "open" && i.head === headName && i.base === baseRef,
      );
      if (dup) {
        return error(422, "Validation Failed", {
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${repo.owner}:${headName}.`,
            },
          ],
        });
      }
      const a = await fake.git.analyse(repo.bare, baseSha, headSha);
      if (a.aheadBy === 0) {
        return error(422, "Validation Failed", {
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: `No commits between ${baseRef} and ${headName}`,
            },
          ],
        });
      }
      const pr = fake.createPullRequest(repo.fullName, {
        title,
        head: headName,
        base: baseRef,
        body: str("body") ?? "",
        draft: req.body.draft === true,
        user: ctx.login,
      });
      return { status: 201, body: await pullJson(fake, ctx, base, repo, pr) };
    }
    case "GET /pulls": {
      const state = req.url.searchParams.get("state") ?? "open";
      const pulls = [...repo.items.values()].filter(
        (i): i is FakePull => i.kind === "pull" && (state === "all" || i.state === state),
      );
      const { page, headers } = paginate(req.url, base, sortItems(req.url, pulls));
      const tips = await fake.branches(ctx, repo);
      const zero = "0".repeat(40);
      return {
        status: 200,
        headers,
        body: page.map((p) =>
          pullSimpleJson(base, repo, p, tips.get(p.head) ?? zero, tips.get(p.base) ?? zero),
        ),
      };
    }
    case "GET /pulls/:n": {
      const it = repo.items.get(num);
      if (!it || it.kind !== "pull") return notFound();
      if (/application\/vnd\.github(?:\.v3)?\.diff/.test(req.accept)) {
        const { headSha, baseSha } = await fake.analysePull(ctx, repo, it);
        if (!headSha || !baseSha) return notFound();
        return {
          status: 200,
          headers: { "content-type": "application/vnd.github.diff; charset=utf-8" },
          body: await fake.git.diff(repo.bare, baseSha, headSha),
        };
      }
      return { status: 200, body: await pullJson(fake, ctx, base, repo, it) };
    }
    case "PATCH /pulls/:n": {
      const it = repo.items.get(num);
      if (!it || it.kind !== "pull") return notFound();
      const invalid = invalidPullUpdate(req.body);
      if (invalid) return error(422, invalid);
      const now = fake.now();
      if (str("title") !== undefined) it.title = str("title")!;
      if (str("body") !== undefined) it.body = str("body")!;
      else if (req.body.body === null) it.body = "";
      const state = str("state");
      if (state === "closed" && it.state === "open") Object.assign(it, { state: "closed", closedAt: now });
      else if (state === "open" && it.state === "closed" && !it.mergedAt)
        Object.assign(it, { state: "open", closedAt: null });
      it.updatedAt = now;
      return { status: 200, body: await pullJson(fake, ctx, base, repo, it) };
    }
    case "PUT /pulls/:n/update-branch": {
      const it = repo.items.get(num);
      if (!it || it.kind !== "pull") return notFound();
      if (it.state !== "open") return error(422, "Pull request is not open");
      const r = await fake.updateBranch(repo, it, str("expected_head_sha"));
      if (!r.ok) return error(422, r.message);
      const body: UpdateBranchJson = {
        message: "Updating pull request branch.",
        url: `${base}/repos/${repo.fullName}/pulls/${num}`,
      };
      return { status: 202, body };
    }
  }
  return undefined;
}
