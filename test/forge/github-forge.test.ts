/**
 * The GitHub forge adapter against the fake GitHub (test/support/fake-github): real HTTP on
 * 127.0.0.1, GraphQL documents validated against GitHub's public schema, repositories backed
 * by real bare git repositories.
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { validate } from "@octokit/graphql-schema";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { GithubForgeError } from "../../src/forge/github/errors.ts";
import { defaultGitUrl, GithubForge } from "../../src/forge/github/github-forge.ts";
import * as Q from "../../src/forge/github/queries.ts";
import { ForgeError, type PullRequestStatus } from "../../src/forge/types.ts";
import { git, gitMaybe } from "../../src/util/git.ts";
import { FakeGithub, fakeThrottle } from "../support/fake-github/index.ts";

const TOKEN = "fake-token";
let fake: FakeGithub;
let forge: GithubForge;

function newForge(opts: Partial<ConstructorParameters<typeof GithubForge>[0]> = {}): GithubForge {
  return new GithubForge({
    apiUrl: fake.url,
    token: TOKEN,
    gitUrl: (o, r) => fake.gitUrl(o, r),
    throttle: fakeThrottle(),
    ...opts,
  });
}

/** Runs `fn` and returns what it did on the wire: fake-side log entries and the adapter's count. */
async function measured<T>(f: GithubForge, fn: () => Promise<T>) {
  const from = fake.requests.length;
  const count = f.requestCount;
  const result = await fn();
  const requests = fake.requests.slice(from);
  return { result, requests, counted: f.requestCount - count };
}

beforeAll(async () => {
  fake = await FakeGithub.start();
  forge = newForge();
});

afterAll(async () => {
  await fake.close();
});

afterEach(() => {
  // Every request hit an implemented endpoint and every GraphQL document was valid.
  expect(fake.unhandled).toEqual([]);
  expect(fake.rejectedDocuments).toEqual([]);
});

describe("repository", () => {
  test("repo() reads the default branch and its tip; remote URL from gitUrl, without the token", async () => {
    await fake.createRepo("acme/widgets");
    const r = await forge.repo("acme/widgets");
    expect(r).toEqual({
      name: "acme/widgets",
      remoteUrl: fake.gitUrl("acme", "widgets"),
      defaultBranch: "main",
      defaultBranchSha: await fake.branchSha("acme/widgets", "main"),
    });
    // A name without owner takes the default owner.
    const short = await newForge({ defaultOwner: "acme" }).repo("widgets");
    expect(short.name).toBe("acme/widgets");
    await expect(forge.repo("widgets")).rejects.toThrow(/must be owner\/name/);
  });

  test("default git URLs: github.com for the public API, the Enterprise host otherwise; never credentials", () => {
    expect(defaultGitUrl("https://api.github.com")("acme", "widgets")).toBe(
      "https://github.com/acme/widgets.git",
    );
    expect(defaultGitUrl("https://ghe.example.com/api/v3")("acme", "widgets")).toBe(
      "https://ghe.example.com/acme/widgets.git",
    );
  });

  test("a missing repository is a ForgeError that says what to check", async () => {
    const err = await forge.repo("acme/missing").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as GithubForgeError).type).toBe("NOT_FOUND");
    expect((err as Error).message).toMatch(/acme\/missing.*NOT_FOUND.*credentials can see/);
  });

  test("gitEnv: git sends the token as a Basic extra header (seen by a real HTTP server)", async () => {
    const env = await forge.gitEnv();
    expect(env).toEqual({
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`,
    });
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(403).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/acme/widgets.git`;
      const failed = await git(process.cwd(), ["ls-remote", url], { env }).then(
        () => false,
        () => true,
      );
      expect(failed).toBe(true); // 403
      expect(seen[0]).toBe(`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`);
    } finally {
      server.close();
    }
  });
});

describe("issues and comments", () => {
  test("create, get and list issues over several pages; pull requests are left out", async () => {
    await fake.createRepo("acme/issues");
    fake.seedIssues("acme/issues", 130);
    await fake.commit("acme/issues", "feature", { "f.txt": "f\n" });
    fake.createPullRequest("acme/issues", { title: "a PR", head: "feature" });
    const created = await forge.createIssue("acme/issues", {
      title: "Crash on start",
      body: "Steps: run it",
      author: "ignored",
      labels: ["bug", "p1"],
    });
    expect(created).toMatchObject({
      repo: "acme/issues",
      number: 132,
      title: "Crash on start",
      body: "Steps: run it",
      author: "octocat",
      labels: ["bug", "p1"],
      state: "open",
    });
    expect(await forge.getIssue("acme/issues", 132)).toEqual(created);

    const { result, requests, counted } = await measured(forge, () => forge.listIssues("acme/issues"));
    expect(result.map((i) => i.number)).toEqual([...Array.from({ length: 130 }, (_, i) => i + 1), 132]);
    expect(result[0]).toMatchObject({ title: "Issue 0", body: "Body 0", author: "octocat", state: "open" });
    // 132 items (issues + the PR) at 100 per page: two pages.
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /repos/acme/issues/issues",
      "GET /repos/acme/issues/issues",
    ]);
    expect(counted).toBe(2);

    fake.item("acme/issues", 5).state = "closed";
    expect((await forge.listIssues("acme/issues", { state: "closed" })).map((i) => i.number)).toEqual([5]);
    expect(await forge.listIssues("acme/issues", { state: "all" })).toHaveLength(131);
  });

  test("getIssue refuses a pull request number and a missing number, clearly", async () => {
    await expect(forge.getIssue("acme/issues", 131)).rejects.toThrow(
      /#131 of acme\/issues is a pull request/,
    );
    const err = await forge.getIssue("acme/issues", 999).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as Error).message).toMatch(
      /reading issue #999 of acme\/issues failed \(HTTP 404\).*does not exist/,
    );
  });

  test("comments: add as the token's user, list every page", async () => {
    await fake.createRepo("acme/comments");
    const issue = fake.createIssue("acme/comments", { title: "t" });
    for (let i = 0; i < 104; i++)
      fake.addComment("acme/comments", issue.number, { body: `c${i}`, user: "alice" });
    const mine = await forge.addComment("acme/comments", issue.number, {
      author: "ignored",
      body: "from nightshift",
    });
    expect(mine).toMatchObject({
      repo: "acme/comments",
      number: issue.number,
      author: "octocat",
      body: "from nightshift",
    });
    const { result, requests } = await measured(forge, () =>
      forge.listComments("acme/comments", issue.number),
    );
    expect(result).toHaveLength(105);
    expect(result[0]).toMatchObject({ author: "alice", body: "c0" });
    expect(result[104]).toEqual(mine);
    expect(requests).toHaveLength(2);
  });
});

describe("pull requests", () => {
  test("create (draft, session marker), get, list by state, diff as git prints it", async () => {
    await fake.createRepo("acme/prs", { files: { "README.md": "hello\n" } });
    await fake.commit("acme/prs", "feature", {
      "src/a.ts": "export const a = 1;\n",
      "README.md": "hello world\n",
    });
    const pr = await forge.createPullRequest("acme/prs", {
      title: "Add a",
      body: "Adds a.",
      head: "feature",
      base: "main",
      draft: true,
      sessionId: "s_123",
    });
    expect(pr).toMatchObject({
      repo: "acme/prs",
      number: 1,
      title: "Add a",
      body: "Adds a.",
      author: "octocat",
      head: "feature",
      base: "main",
      draft: true,
      state: "open",
      sessionId: "s_123",
      headSha: await fake.branchSha("acme/prs", "feature"),
    });
    // GitHub keeps the marker in the body; the adapter reads it back.
    expect(fake.pull("acme/prs", 1).body).toContain("nightshift-session: s_123");
    expect(await forge.getPullRequest("acme/prs", 1)).toEqual(pr);

    const bare = fake.gitUrl("acme", "prs");
    expect(await forge.pullRequestDiff("acme/prs", 1)).toBe(
      `${await git(bare, ["diff", "--full-index", "main...feature"])}\n`,
    );

    // A PR for a branch that does not exist is GitHub's 422, passed on with its detail.
    await expect(
      forge.createPullRequest("acme/prs", {
        title: "x",
        body: "",
        head: "nope",
        base: "main",
        draft: false,
        sessionId: null,
      }),
    ).rejects.toThrow(/HTTP 422.*Validation Failed/);

    await fake.commit("acme/prs", "merged-one", { "m.txt": "m\n" });
    const merged = fake.createPullRequest("acme/prs", { title: "m", head: "merged-one" });
    await fake.mergePullRequest("acme/prs", merged.number);
    await fake.commit("acme/prs", "closed-one", { "c.txt": "c\n" });
    const closed = fake.createPullRequest("acme/prs", { title: "c", head: "closed-one" });
    await forge.closePullRequest("acme/prs", closed.number);
    expect((await forge.getPullRequest("acme/prs", closed.number)).state).toBe("closed");

    const numbers = async (state: "open" | "closed" | "merged" | "all") =>
      (await forge.listPullRequests("acme/prs", { state })).map((p) => p.number);
    expect(await numbers("open")).toEqual([1]);
    expect(await numbers("closed")).toEqual([closed.number]);
    expect(await numbers("merged")).toEqual([merged.number]);
    expect(await numbers("all")).toEqual([1, merged.number, closed.number]);
  });

  test("listPullRequests reads every page", async () => {
    await fake.createRepo("acme/many");
    await fake.seedPullRequests("acme/many", 205);
    const { result, requests } = await measured(forge, () => forge.listPullRequests("acme/many"));
    expect(result.map((p) => p.number)).toEqual(Array.from({ length: 205 }, (_, i) => i + 1));
    expect(requests).toHaveLength(3);
  });

  test("setDraft both ways with the GraphQL mutations; no mutation when already in that state", async () => {
    await fake.createRepo("acme/drafts");
    const [pr] = await fake.seedPullRequests("acme/drafts", 1);
    const ops = async (fn: () => Promise<void>) =>
      (await measured(forge, fn)).requests.map((r) => r.operation);
    expect(await ops(() => forge.setDraft("acme/drafts", pr!.number, true))).toEqual([
      "NightshiftPullRequestId",
      "NightshiftConvertPullRequestToDraft",
    ]);
    expect((await forge.getPullRequest("acme/drafts", pr!.number)).draft).toBe(true);
    expect(await ops(() => forge.setDraft("acme/drafts", pr!.number, true))).toEqual([
      "NightshiftPullRequestId",
    ]);
    expect(await ops(() => forge.setDraft("acme/drafts", pr!.number, false))).toEqual([
      "NightshiftPullRequestId",
      "NightshiftMarkPullRequestReadyForReview",
    ]);
    expect(fake.pull("acme/drafts", pr!.number).draft).toBe(false);
    await expect(forge.setDraft("acme/drafts", 99, true)).rejects.toThrow(/NOT_FOUND/);
  });
});

describe("listPullRequestStatuses", () => {
  const REPO = "acme/status";
  let statuses: PullRequestStatus[];
  let wire: Awaited<ReturnType<typeof measured>>;
  const byIndex = (i: number) => statuses.find((s) => s.number === i + 1)!;

  beforeAll(async () => {
    await fake.createRepo(REPO, { files: { "README.md": "r\n", "shared.txt": "base\n" } });
    // 120 PRs: every tenth (3, 13, …) edits shared.txt, which main edits too (a real conflict);
    // the others add a file of (i % 5 + 1) lines.
    const pulls = await fake.seedPullRequests(REPO, 120, {
      files: (i) =>
        i % 10 === 3
          ? { "shared.txt": `pr ${i}\n` }
          : { [`src/f${i}.txt`]: Array.from({ length: (i % 5) + 1 }, (_, k) => `line ${k}\n`).join("") },
      draft: (i) => i === 7,
      labels: (i) => (i === 9 ? ["nightshift", "small"] : []),
    });
    expect(pulls.map((p) => p.number)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    await fake.commit(REPO, "main", { "shared.txt": "main edit\n" });
    await fake.commit(REPO, "main", { "docs.txt": "docs\n" });
    fake.requireChecks(REPO, "main", ["ci/build"]);
    const head = async (i: number) => (await fake.branchSha(REPO, `seed/pr-${i}`))!;
    // #1: required check run passed, a non-required status pending.
    fake.addCheckRun(REPO, await head(0), {
      name: "ci/build",
      conclusion: "SUCCESS",
      detailsUrl: "https://ci.example/1",
      title: "Build",
      summary: "All good",
    });
    fake.addStatus(REPO, await head(0), { context: "lint", state: "PENDING", description: "running" });
    // #2: 130 check runs (two pages of contexts); the required one is on the second page.
    for (let k = 0; k < 130; k++) {
      fake.addCheckRun(REPO, await head(1), {
        name: k === 120 ? "ci/build" : `check-${k}`,
        conclusion: "SUCCESS",
      });
    }
    // #5: required passed, another check run failed.
    fake.addCheckRun(REPO, await head(4), { name: "ci/build", conclusion: "SUCCESS" });
    fake.addCheckRun(REPO, await head(4), { name: "e2e", conclusion: "FAILURE", text: "2 tests failed" });
    // #6: GitHub still computing mergeability.
    fake.setMergeable(REPO, 6, null);
    // #9: the required check as a commit status.
    fake.addStatus(REPO, await head(8), {
      context: "ci/build",
      state: "SUCCESS",
      targetUrl: "https://ci.example/9",
    });
    // #11: a queued check run.
    fake.addCheckRun(REPO, await head(10), { name: "ci/build", status: "IN_PROGRESS" });
    fake.addCheckRun(REPO, await head(10), { name: "deploy", status: "QUEUED" });

    wire = await measured(forge, () => forge.listPullRequestStatuses(REPO));
    statuses = wire.result as PullRequestStatus[];
  });

  test("120 open PRs in 6 requests: 2 listing pages, 3 status batches, 1 extra page of checks", () => {
    expect(statuses.map((s) => s.number)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(wire.requests.map((r) => r.operation)).toEqual([
      "NightshiftOpenPullRequests",
      "NightshiftOpenPullRequests",
      "NightshiftPullRequestStatuses",
      "NightshiftCheckContexts", // #2's second page of 130 contexts, read with the first batch
      "NightshiftPullRequestStatuses",
      "NightshiftPullRequestStatuses",
    ]);
    expect(wire.requests.length).toBeLessThanOrEqual(6);
    expect(wire.counted).toBe(wire.requests.length);
  });

  test("mergeability and merge state come from real git", async () => {
    for (const s of statuses) {
      const i = s.number - 1;
      if (i % 10 === 3) expect([s.number, s.mergeable, s.mergeState]).toEqual([s.number, false, "dirty"]);
      else if (i === 5) expect([s.mergeable, s.mergeState]).toEqual([null, "unknown"]);
      else expect(s.mergeable).toBe(true);
    }
    expect(byIndex(7)).toMatchObject({ draft: true, mergeState: "draft" });
    expect(byIndex(0).mergeState).toBe("unstable"); // lint still pending
    expect(byIndex(1).mergeState).toBe("clean");
    expect(byIndex(2).mergeState).toBe("blocked"); // required ci/build missing
    expect(byIndex(4).mergeState).toBe("unstable");
    expect(byIndex(8).mergeState).toBe("clean");
    expect(byIndex(10).mergeState).toBe("blocked");
    // Independent check with git: the conflicting head really does not merge.
    const bare = fake.gitUrl("acme", "status");
    expect(await gitMaybe(bare, ["merge-tree", "--write-tree", "main", "seed/pr-3"])).toBeUndefined();
    expect(await gitMaybe(bare, ["merge-tree", "--write-tree", "main", "seed/pr-2"])).toBeDefined();
  });

  test("behindBy from the batched compare, though GitHub does not say BEHIND; sizes from the diff", () => {
    for (const s of statuses) expect(s.behindBy).toBe(2);
    expect(statuses.some((s) => s.mergeState === "behind")).toBe(false);
    expect(byIndex(2)).toMatchObject({
      additions: 3,
      deletions: 0,
      changedFiles: 1,
      head: "seed/pr-2",
      base: "main",
    });
    expect(byIndex(3)).toMatchObject({ additions: 1, deletions: 1, changedFiles: 1 });
    expect(byIndex(9).labels).toEqual(["nightshift", "small"]);
    expect(byIndex(0)).toMatchObject({ title: "Seeded change 0", author: "octocat" });
  });

  test("checks: check runs and statuses, required ones marked, every context page read", async () => {
    expect(byIndex(0).checks).toEqual([
      {
        name: "ci/build",
        status: "completed",
        conclusion: "success",
        required: true,
        url: "https://ci.example/1",
        output: "Build\n\nAll good",
      },
      { name: "lint", status: "in_progress", conclusion: null, required: false, output: "running" },
    ]);
    const many = byIndex(1).checks;
    expect(many).toHaveLength(130);
    expect(many.filter((c) => c.required).map((c) => c.name)).toEqual(["ci/build"]);
    expect(many[120]).toMatchObject({ name: "ci/build", required: true, conclusion: "success" });
    expect(byIndex(4).checks[1]).toMatchObject({
      name: "e2e",
      conclusion: "failure",
      required: false,
      output: "2 tests failed",
    });
    expect(byIndex(8).checks).toEqual([
      {
        name: "ci/build",
        status: "completed",
        conclusion: "success",
        required: true,
        url: "https://ci.example/9",
      },
    ]);
    expect(byIndex(10).checks.map((c) => [c.status, c.conclusion])).toEqual([
      ["in_progress", null],
      ["queued", null],
    ]);
    expect(byIndex(2).checks).toEqual([]);
    expect(byIndex(0).headSha).toBe(await fake.branchSha(REPO, "seed/pr-0"));
  });

  test("numbers: only those, still batched; GitHub says BEHIND when up-to-date branches are required", async () => {
    fake.requireUpToDate(REPO, "main");
    fake.pull(REPO, 20).state = "closed";
    const { result, requests } = await measured(forge, () =>
      forge.listPullRequestStatuses(REPO, { numbers: [3, 9, 20, 999] }),
    );
    expect(result.map((s) => [s.number, s.mergeState, s.behindBy])).toEqual([
      [3, "behind", 2],
      [9, "behind", 2],
    ]);
    expect(requests.map((r) => r.operation)).toEqual([
      "NightshiftIdentifyPullRequests",
      "NightshiftPullRequestStatuses",
    ]);
    fake.requireUpToDate(REPO, "main", false);
    fake.pull(REPO, 20).state = "open";
  });
});

describe("updateBranch", () => {
  const REPO = "acme/update";
  let feat: number;
  let clash: number;

  beforeAll(async () => {
    await fake.createRepo(REPO, { files: { "shared.txt": "base\n" } });
    await fake.commit(REPO, "feat", { "feat.txt": "feat\n" });
    await fake.commit(REPO, "clash", { "shared.txt": "clash\n" });
    feat = fake.createPullRequest(REPO, { title: "feat", head: "feat" }).number;
    clash = fake.createPullRequest(REPO, { title: "clash", head: "clash" }).number;
    await fake.commit(REPO, "main", { "shared.txt": "main moved\n" });
  });

  test("merges the base into the head: the head moves and contains the base", async () => {
    const bare = fake.gitUrl("acme", "update");
    const before = (await fake.branchSha(REPO, "feat"))!;
    const mainSha = (await fake.branchSha(REPO, "main"))!;
    const r = await forge.updateBranch(REPO, feat, before);
    const after = (await fake.branchSha(REPO, "feat"))!;
    // GitHub merges after answering 202: the adapter does not wait for the new head by default.
    expect(r).toEqual({ updated: true });
    expect(after).not.toBe(before);
    expect(await git(bare, ["rev-list", "--parents", "-n", "1", after])).toBe(
      `${after} ${before} ${mainSha}`,
    );
    expect(await git(bare, ["show", `${after}:shared.txt`])).toBe("main moved");
    const [s] = await forge.listPullRequestStatuses(REPO, { numbers: [feat] });
    expect(s).toMatchObject({ headSha: after, behindBy: 0, mergeable: true });
    // Again: nothing left to merge.
    expect(await forge.updateBranch(REPO, feat, after)).toMatchObject({
      updated: false,
      reason: "up_to_date",
    });
  });

  test("head_moved when the head is no longer the expected sha; nothing changes", async () => {
    const now = (await fake.branchSha(REPO, "clash"))!;
    const r = await forge.updateBranch(REPO, clash, "1".repeat(40));
    expect(r).toMatchObject({ updated: false, reason: "head_moved" });
    expect(await fake.branchSha(REPO, "clash")).toBe(now);
  });

  test("conflict when the base does not merge cleanly; nothing changes", async () => {
    const now = (await fake.branchSha(REPO, "clash"))!;
    const r = await forge.updateBranch(REPO, clash, now);
    expect(r).toMatchObject({
      updated: false,
      reason: "conflict",
      detail: "merge conflict between base and head",
    });
    expect(await fake.branchSha(REPO, "clash")).toBe(now);
  });
});

test("review threads: every thread page and every comment page", async () => {
  await fake.createRepo("acme/reviews");
  const [pr] = await fake.seedPullRequests("acme/reviews", 1);
  for (let t = 0; t < 60; t++) {
    fake.addReviewThread("acme/reviews", pr!.number, {
      path: `src/f${t}.ts`,
      line: t === 1 ? null : t + 1,
      isResolved: t % 2 === 0,
      comments: Array.from({ length: t === 0 ? 130 : 2 }, (_, k) => ({
        body: `t${t} c${k}`,
        user: k % 2 ? "bob" : "alice",
      })),
    });
  }
  const { result, requests } = await measured(forge, () =>
    forge.listReviewThreads("acme/reviews", pr!.number),
  );
  expect(result).toHaveLength(60);
  expect(result[0]!.comments).toHaveLength(130);
  expect(result[0]!.comments[129]).toMatchObject({
    body: "t0 c129",
    author: "bob",
    repo: "acme/reviews",
    number: pr!.number,
  });
  expect(result[1]).toMatchObject({ resolved: false, path: "src/f1.ts", line: null });
  expect(result[2]).toMatchObject({ resolved: true, line: 3 });
  expect(result[59]!.comments.map((c) => c.body)).toEqual(["t59 c0", "t59 c1"]);
  expect(requests.map((r) => r.operation)).toEqual([
    "NightshiftReviewThreads",
    "NightshiftReviewThreadComments",
    "NightshiftReviewThreads",
  ]);
});

describe("rate limits and errors", () => {
  test("primary rate limit on REST: waits for the reset, retries, succeeds; both requests counted", async () => {
    await fake.createRepo("acme/limits");
    fake.createIssue("acme/limits", { title: "one" });
    fake.rateLimitNext(1, "primary");
    const { result, requests, counted } = await measured(forge, () => forge.listIssues("acme/limits"));
    expect(result.map((i) => i.title)).toEqual(["one"]);
    expect(requests.map((r) => r.status)).toEqual([403, 200]);
    expect(counted).toBe(2);
  });

  test("secondary rate limit (retry-after) and GraphQL RATE_LIMITED are retried too", async () => {
    fake.rateLimitNext(1, "secondary");
    expect((await forge.getIssue("acme/limits", 1)).title).toBe("one");
    fake.rateLimitNext(2, "primary");
    const { result, requests } = await measured(forge, () => forge.repo("acme/limits"));
    expect(result.defaultBranch).toBe("main");
    expect(requests.map((r) => [r.operation, r.status])).toEqual([
      ["NightshiftRepository", 200],
      ["NightshiftRepository", 200],
      ["NightshiftRepository", 200],
    ]);
  });

  test("after 2 retries the rate limit becomes a ForgeError saying to wait", async () => {
    fake.rateLimitNext(3, "primary");
    const { requests } = await measured(forge, async () => {
      await expect(forge.getIssue("acme/limits", 1)).rejects.toThrow(/HTTP 403.*rate limit is spent/);
    });
    expect(requests.map((r) => r.status)).toEqual([403, 403, 403]);
  });

  test("401: a ForgeError naming the variable to set, without the token", async () => {
    const secret = "ghp_wrongSECRETvalue123";
    const bad = newForge({ token: secret });
    for (const call of [() => bad.getIssue("acme/limits", 1), () => bad.repo("acme/limits")]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ForgeError);
      expect((err as Error).message).toMatch(/HTTP 401.*Bad credentials.*invalid or expired.*GITHUB_TOKEN/);
      expect((err as Error).message).not.toContain(secret);
      expect(JSON.stringify(err)).not.toContain(secret);
    }
  });
});

describe("GitHub App installation", () => {
  test("authenticates with a signed JWT, acts as the App's bot, and hands git the installation token", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    fake.registerApp({
      appId: 4242,
      publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
      installationId: 77,
      slug: "nightshift-test",
    });
    await fake.createRepo("acme/app");
    const app = newForge({
      token: undefined,
      app: {
        appId: 4242,
        privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        installationId: 77,
      },
    });
    const issue = await app.createIssue("acme/app", { title: "from the app", body: "", author: "x" });
    expect(issue.author).toBe("nightshift-test[bot]");
    const { GIT_CONFIG_VALUE_0: header } = await app.gitEnv();
    const basic = /Authorization: Basic (\S+)$/.exec(header!)![1]!;
    expect(Buffer.from(basic, "base64").toString()).toMatch(/^x-access-token:ghs_fake/);
    // One token exchange, reused.
    expect(fake.requests.filter((r) => r.path === "/app/installations/77/access_tokens")).toHaveLength(1);

    const wrong = newForge({
      token: undefined,
      app: {
        appId: 4242,
        privateKey: generateKeyPairSync("rsa", { modulusLength: 2048 })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
        installationId: 77,
      },
    });
    await expect(wrong.getIssue("acme/app", 1)).rejects.toThrow(ForgeError);
  });
});

describe("the fake stays honest", () => {
  async function post(query: string, variables: Record<string, unknown> = {}) {
    const res = await fetch(`${fake.url}/graphql`, {
      method: "POST",
      headers: { authorization: `bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: unknown; errors?: { message: string; type?: string }[] },
    };
  }

  test("an invalid GraphQL document is refused with GitHub's error shape and recorded", async () => {
    const r = await post(
      `query { repository(owner: "acme", name: "widgets") { pullRequests(first: 1) { nodes { mergeableState } } } }`,
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors?.[0]?.message).toMatch(/Cannot query field "mergeableState" on type "PullRequest"/);
    expect(fake.rejectedDocuments).toHaveLength(1);
    fake.rejectedDocuments.length = 0;
    const syntax = await post(`query { repository(owner: "acme"`);
    expect(syntax.body.errors?.[0]?.message).toMatch(/Syntax Error/);
    fake.rejectedDocuments.length = 0;
  });

  test("GitHub's pagination rules: first or last required, at most 100", async () => {
    const over = await post(
      `query { repository(owner: "acme", name: "widgets") { pullRequests(first: 101) { totalCount } } }`,
    );
    expect(over.body.errors?.[0]).toMatchObject({ type: "EXCESSIVE_PAGINATION" });
    const none = await post(
      `query { repository(owner: "acme", name: "widgets") { pullRequests { totalCount } } }`,
    );
    expect(none.body.errors?.[0]).toMatchObject({ type: "MISSING_PAGINATION_BOUNDARIES" });
  });

  test("variables are checked against the schema", async () => {
    const r = await post(
      `query($n: Int!) { repository(owner: "acme", name: "widgets") { pullRequest(number: $n) { id } } }`,
      {
        n: "not a number",
      },
    );
    expect(r.body.errors?.[0]?.message).toMatch(/Variable "\$n" got invalid value/);
  });

  test("every document the adapter sends validates against GitHub's schema", () => {
    const docs = [
      Q.REPO_QUERY,
      Q.OPEN_PULL_REQUESTS_QUERY,
      Q.identifyPullRequestsQuery(3),
      Q.statusQuery([true, false, true]),
      Q.CONTEXTS_PAGE_QUERY,
      Q.REVIEW_THREADS_QUERY,
      Q.THREAD_COMMENTS_QUERY,
      Q.PULL_REQUEST_ID_QUERY,
      Q.CONVERT_TO_DRAFT_MUTATION,
      Q.MARK_READY_MUTATION,
    ];
    for (const d of docs) expect(validate(d).map((e) => e.message)).toEqual([]);
  });
});
