/**
 * The fake GitHub's commit-ref endpoints (`…/commits/{ref}/check-runs`, `…/commits/{ref}/status`),
 * its review requirement and its request bodies, through a plain `@octokit/rest` client, as
 * bench/guard-requests' PRodder baseline calls them.
 */
import { Octokit } from "@octokit/rest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeGithub } from "./index.ts";

let fake: FakeGithub;
let octokit: Octokit;
const owner = "acme";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

beforeAll(async () => {
  fake = await FakeGithub.start();
  octokit = new Octokit({ baseUrl: fake.url, auth: "fake-token", log: quiet });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  expect(fake.unhandled).toEqual([]);
  expect(fake.rejectedDocuments).toEqual([]);
});

describe("GET /repos/{o}/{r}/commits/{ref}/check-runs", () => {
  it("pages like GitHub, keeps the latest run per name unless filter=all, takes a branch name, lists the PRs", async () => {
    await fake.createRepo("acme/checks");
    const sha = await fake.commit("acme/checks", "feature", { "f.txt": "f\n" });
    const pr = fake.createPullRequest("acme/checks", { title: "feature", head: "feature" });
    for (let i = 0; i < 130; i++)
      fake.addCheckRun("acme/checks", sha, { name: `job ${i}`, conclusion: "SUCCESS" });
    fake.addCheckRun("acme/checks", sha, { name: "job 0", conclusion: "FAILURE", title: "rerun failed" });
    fake.addCheckRun("acme/checks", sha, { name: "pending", status: "IN_PROGRESS" });

    const from = fake.requests.length;
    const all = await octokit.paginate(octokit.rest.checks.listForRef, {
      owner,
      repo: "checks",
      ref: sha,
      per_page: 100,
    });
    expect(fake.requests.length - from).toBe(2); // 131 latest runs: two pages, followed through the Link header
    expect(all).toHaveLength(131);
    const job0 = all.find((r) => r.name === "job 0")!;
    expect(job0).toMatchObject({
      head_sha: sha,
      status: "completed",
      conclusion: "failure",
      output: { title: "rerun failed", annotations_count: 0 },
      pull_requests: [{ number: pr.number, head: { ref: "feature", sha }, base: { ref: "main" } }],
    });
    expect(job0.completed_at).not.toBeNull();
    expect(all.find((r) => r.name === "pending")).toMatchObject({
      status: "in_progress",
      conclusion: null,
      completed_at: null,
    });

    const first = await octokit.rest.checks.listForRef({ owner, repo: "checks", ref: sha, per_page: 100 });
    expect(first.data.total_count).toBe(131);
    expect(first.data.check_runs).toHaveLength(100);
    expect(first.headers.link).toMatch(/rel="next"/);

    const everyRun = await octokit.rest.checks.listForRef({
      owner,
      repo: "checks",
      ref: "feature",
      filter: "all",
    });
    expect(everyRun.data.total_count).toBe(132);
    expect(everyRun.data.check_runs).toHaveLength(30); // GitHub's default page size
    const named = await octokit.rest.checks.listForRef({
      owner,
      repo: "checks",
      ref: sha,
      check_name: "job 0",
      filter: "all",
    });
    expect(named.data.check_runs.map((r) => r.conclusion)).toEqual(["success", "failure"]);

    const missing = await octokit.rest.checks
      .listForRef({ owner, repo: "checks", ref: "f".repeat(40) })
      .catch((e: { status: number; message: string }) => e);
    expect(missing).toMatchObject({ status: 422, message: expect.stringMatching(/No commit found for SHA/) });
  });
});

describe("GET /repos/{o}/{r}/commits/{ref}/status", () => {
  it("combines commit statuses as GitHub does and pages the statuses", async () => {
    await fake.createRepo("acme/statuses");
    const sha = await fake.commit("acme/statuses", "feature", { "f.txt": "f\n" });
    const get = async (q: { per_page?: number; page?: number } = {}) =>
      (await octokit.rest.repos.getCombinedStatusForRef({ owner, repo: "statuses", ref: sha, ...q })).data;

    expect(await get()).toMatchObject({ state: "pending", total_count: 0, statuses: [], sha });
    fake.addStatus("acme/statuses", sha, { context: "ci/a", state: "SUCCESS" });
    fake.addStatus("acme/statuses", sha, { context: "ci/b", state: "PENDING" });
    expect((await get()).state).toBe("pending");
    fake.addStatus("acme/statuses", sha, { context: "ci/b", state: "SUCCESS" }); // latest per context wins
    expect(await get()).toMatchObject({ state: "success", total_count: 2 });
    fake.addStatus("acme/statuses", sha, { context: "ci/c", state: "ERROR", description: "crashed" });
    const failed = await get();
    expect(failed.state).toBe("failure");
    expect(failed.statuses.map((s) => [s.context, s.state])).toEqual([
      ["ci/a", "success"],
      ["ci/b", "success"],
      ["ci/c", "error"],
    ]);
    expect(failed.repository.full_name).toBe("acme/statuses");
    // Check runs are not part of the combined status.
    fake.addCheckRun("acme/statuses", sha, { name: "build", conclusion: "FAILURE" });
    expect((await get()).total_count).toBe(3);

    const page2 = await get({ per_page: 2, page: 2 });
    expect(page2.total_count).toBe(3);
    expect(page2.statuses.map((s) => s.context)).toEqual(["ci/c"]);
    // A branch name works too; an unknown commit is a 404 (GitHub's documented reply).
    const byBranch = await octokit.rest.repos.getCombinedStatusForRef({
      owner,
      repo: "statuses",
      ref: "feature",
    });
    expect(byBranch.data.sha).toBe(sha);
    const missing = await octokit.rest.repos
      .getCombinedStatusForRef({ owner, repo: "statuses", ref: "0".repeat(40) })
      .catch((e: { status: number }) => e);
    expect(missing).toMatchObject({ status: 404 });
  });
});

describe("review requirement", () => {
  it("requireReviews makes an unapproved PR BLOCKED with every check green; approve() clears it", async () => {
    await fake.createRepo("acme/reviews");
    const sha = await fake.commit("acme/reviews", "feature", { "f.txt": "f\n" });
    const pr = fake.createPullRequest("acme/reviews", { title: "feature", head: "feature" });
    fake.addCheckRun("acme/reviews", sha, { name: "build", conclusion: "SUCCESS" });
    const read = async () => {
      const rest = await octokit.rest.pulls.get({ owner, repo: "reviews", pull_number: pr.number });
      const gql = await octokit.graphql<{
        repository: { pullRequest: { mergeStateStatus: string; reviewDecision: string | null } };
      }>(
        `query ReviewState($n: Int!) {
          repository(owner: "acme", name: "reviews") { pullRequest(number: $n) { mergeStateStatus reviewDecision } }
        }`,
        { n: pr.number },
      );
      return [
        rest.data.mergeable_state,
        gql.repository.pullRequest.mergeStateStatus,
        gql.repository.pullRequest.reviewDecision,
      ];
    };

    expect(await read()).toEqual(["clean", "CLEAN", null]);
    fake.requireReviews("acme/reviews", "main");
    expect(await read()).toEqual(["blocked", "BLOCKED", "REVIEW_REQUIRED"]);
    fake.approve("acme/reviews", pr.number);
    expect(await read()).toEqual(["clean", "CLEAN", "APPROVED"]);
    fake.requireReviews("acme/reviews", "main", false);
    expect(await read()).toEqual(["clean", "CLEAN", null]);
  });
});

describe("request log", () => {
  it("keeps the JSON body of REST requests, not of GraphQL ones", async () => {
    await fake.createRepo("acme/log");
    const issue = fake.createIssue("acme/log", { title: "t" });
    const from = fake.requests.length;
    await octokit.rest.issues.createComment({
      owner,
      repo: "log",
      issue_number: issue.number,
      body: "hello",
    });
    await octokit.rest.issues.get({ owner, repo: "log", issue_number: issue.number });
    await octokit.graphql("query Viewer { viewer { login } }");
    expect(fake.requests.slice(from).map((r) => r.body)).toEqual([{ body: "hello" }, undefined, undefined]);
  });
});
