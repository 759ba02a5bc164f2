/**
 * `GithubForge.batch`: writes made together inside a batch go to GitHub as aliased GraphQL
 * mutations in few requests, against the fake GitHub (test/support/fake-github): real HTTP on
 * 127.0.0.1, every document validated against GitHub's public schema and executed on it,
 * branch updates merged by real git.
 */
import { validate } from "@octokit/graphql-schema";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { GithubForgeError } from "../../src/forge/github/errors.ts";
import { GithubForge } from "../../src/forge/github/github-forge.ts";
import {
  MUTATION_BATCH_OPERATION,
  mutationDocument,
  outcomes,
} from "../../src/forge/github/mutation-batch.ts";
import * as Q from "../../src/forge/github/queries.ts";
import type { Comment, UpdateBranchResult } from "../../src/forge/types.ts";
import { git } from "../../src/util/git.ts";
import { FakeGithub, fakeThrottle, type RequestLogEntry } from "../support/fake-github/index.ts";

let fake: FakeGithub;

function newForge(opts: Partial<ConstructorParameters<typeof GithubForge>[0]> = {}): GithubForge {
  return new GithubForge({
    apiUrl: fake.url,
    token: "fake-token",
    gitUrl: (o, r) => fake.gitUrl(o, r),
    throttle: fakeThrottle(),
    ...opts,
  });
}

/** Runs `fn` and returns its result and the requests the fake logged meanwhile. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; requests: RequestLogEntry[] }> {
  const from = fake.requests.length;
  const result = await fn();
  return { result, requests: fake.requests.slice(from) };
}

beforeAll(async () => {
  fake = await FakeGithub.start();
});

afterAll(async () => {
  await fake.close();
});

afterEach(() => {
  // Every request hit an implemented endpoint and every GraphQL document was valid.
  expect(fake.unhandled).toEqual([]);
  expect(fake.rejectedDocuments).toEqual([]);
});

test("the batched document validates against GitHub's schema, with every kind of field", () => {
  const { query, variables } = mutationDocument([
    {
      field: "convertPullRequestToDraft",
      inputType: "ConvertPullRequestToDraftInput",
      input: { pullRequestId: "PR_1" },
      selection: Q.DRAFT_PAYLOAD,
    },
    {
      field: "markPullRequestReadyForReview",
      inputType: "MarkPullRequestReadyForReviewInput",
      input: { pullRequestId: "PR_1" },
      selection: Q.DRAFT_PAYLOAD,
    },
    {
      field: "addComment",
      inputType: "AddCommentInput",
      input: { subjectId: "PR_1", body: "hi" },
      selection: Q.ADD_COMMENT_PAYLOAD,
    },
    {
      field: "updatePullRequestBranch",
      inputType: "UpdatePullRequestBranchInput",
      input: { pullRequestId: "PR_1", expectedHeadOid: "a".repeat(40), updateMethod: "MERGE" },
      selection: Q.UPDATE_BRANCH_PAYLOAD,
    },
  ]);
  expect(validate(query).map((e) => e.message)).toEqual([]);
  expect(query).toMatch(
    new RegExp(`^mutation ${MUTATION_BATCH_OPERATION}\\(\\$i0: ConvertPullRequestToDraftInput!`),
  );
  expect(Object.keys(variables)).toEqual(["i0", "i1", "i2", "i3"]);
  // Errors go to their alias; one without a path to every alias.
  const split = outcomes(
    {
      data: { m0: { ok: 1 }, m1: null, m2: null },
      errors: [
        { message: "no", type: "UNPROCESSABLE", path: ["m1"] },
        { message: "nope", path: ["m2", "pullRequest"] },
      ],
    },
    3,
  );
  expect(split.map((o) => [o.data, o.errors.map((e) => e.message)])).toEqual([
    [{ ok: 1 }, []],
    [null, ["no"]],
    [null, ["nope"]],
  ]);
  expect(
    outcomes({ data: null, errors: [{ message: "rate limited" }] }, 2).map((o) => o.errors.length),
  ).toEqual([1, 1]);
});

describe("a batch of 60 mixed writes", () => {
  const REPO = "acme/batch";
  let forge: GithubForge;
  let numbers: number[];
  let heads: Map<number, string>;

  beforeAll(async () => {
    forge = newForge();
    await fake.createRepo(REPO, { files: { "shared.txt": "base\n" } });
    // 59 PRs cut from main (the last one edits the line main edits next), then main moves,
    // then one PR cut from the new main (up to date).
    const seeded = await fake.seedPullRequests(REPO, 59, {
      files: (i) => (i === 58 ? { "shared.txt": "clash\n" } : { [`f${i}.txt`]: `${i}\n` }),
    });
    await fake.commit(REPO, "main", { "shared.txt": "main moved\n" });
    await fake.commit(REPO, "fresh", { "fresh.txt": "fresh\n" });
    const fresh = fake.createPullRequest(REPO, { title: "fresh", head: "fresh" });
    numbers = [...seeded.map((p) => p.number), fresh.number];
    // The status read that tells the adapter every PR's node id (as the guard's does).
    const statuses = await forge.listPullRequestStatuses(REPO);
    heads = new Map(statuses.map((s) => [s.number, s.headSha]));
    expect(statuses).toHaveLength(60);
  });

  test("go out in 3 requests (25 fields each at most), and every caller gets its own result", async () => {
    const drafts = numbers.slice(0, 20);
    const commented = numbers.slice(20, 40);
    const updated = numbers.slice(40, 60);
    const [moved, conflicting, upToDate] = [updated[0]!, updated[18]!, updated[19]!];
    const bare = fake.gitUrl("acme", "batch");
    const tipsBefore = await fake.git.branches(fake.repo(REPO).bare);

    const { result, requests } = await measured(() =>
      forge.batch(() =>
        Promise.all([
          ...drafts.map((n) => forge.setDraft(REPO, n, true).then(() => "draft" as const)),
          ...commented.map((n) => forge.addComment(REPO, n, { author: "ignored", body: `Comment on #${n}` })),
          ...updated.map((n) => forge.updateBranch(REPO, n, n === moved ? "1".repeat(40) : heads.get(n)!)),
        ]),
      ),
    );

    expect(requests.length).toBeLessThanOrEqual(3);
    expect(requests.map((r) => [r.operation, r.mutations?.length])).toEqual([
      [MUTATION_BATCH_OPERATION, 25],
      [MUTATION_BATCH_OPERATION, 25],
      [MUTATION_BATCH_OPERATION, 10],
    ]);
    // In call order.
    expect(requests.flatMap((r) => r.mutations)).toEqual([
      ...drafts.map(() => "convertPullRequestToDraft"),
      ...commented.map(() => "addComment"),
      ...updated.map(() => "updatePullRequestBranch"),
    ]);

    // Drafts: every one converted.
    expect(result.slice(0, 20)).toEqual(drafts.map(() => "draft"));
    for (const n of drafts) expect(fake.pull(REPO, n).draft).toBe(true);

    // Comments: what REST would have returned (the REST id, the token's user).
    const comments = result.slice(20, 40) as Comment[];
    for (const [k, n] of commented.entries()) {
      const stored = fake.pull(REPO, n).comments;
      expect(stored).toHaveLength(1);
      expect(comments[k]).toEqual({
        id: String(stored[0]!.id),
        repo: REPO,
        number: n,
        author: "octocat",
        body: `Comment on #${n}`,
        createdAt: Math.floor(stored[0]!.createdAt / 1000) * 1000, // GitHub's timestamps have seconds
      });
    }
    const listed = await forge.listComments(REPO, commented[0]!);
    expect(listed).toEqual([comments[0]]);

    // Branch updates: merged, or refused with the reason, and then nothing changed.
    const results = result.slice(40) as UpdateBranchResult[];
    const tips = await fake.git.branches(fake.repo(REPO).bare);
    const main = tips.get("main")!;
    for (const [k, n] of updated.entries()) {
      const head = fake.pull(REPO, n).head;
      const r = results[k]!;
      if (n === moved) {
        expect(r).toEqual({
          updated: false,
          reason: "head_moved",
          detail: "expected head sha didn't match current head ref.",
        });
      } else if (n === conflicting) {
        expect(r).toEqual({
          updated: false,
          reason: "conflict",
          detail: "merge conflict between base and head",
        });
      } else if (n === upToDate) {
        expect(r).toEqual({
          updated: false,
          reason: "up_to_date",
          detail: "There are no new commits on the base branch.",
        });
      } else {
        // The payload's headRefOid is the merge commit: base merged into the old head.
        expect(r).toEqual({ updated: true, headSha: tips.get(head) });
        expect(await git(bare, ["rev-list", "--parents", "-n", "1", tips.get(head)!])).toBe(
          `${tips.get(head)} ${heads.get(n)} ${main}`,
        );
        continue;
      }
      expect(tips.get(head)).toBe(tipsBefore.get(head));
    }
  });
});

describe("batch semantics", () => {
  const REPO = "acme/sequential";
  let forge: GithubForge;
  let prs: number[];

  beforeAll(async () => {
    forge = newForge();
    await fake.createRepo(REPO);
    prs = (await fake.seedPullRequests(REPO, 6)).map((p) => p.number);
    await forge.listPullRequestStatuses(REPO);
  });

  test("sequential awaits inside a batch work: each call is sent on its own, the batch resolves with fn's result", async () => {
    const [a, b] = prs as [number, number];
    const { result, requests } = await measured(() =>
      forge.batch(async () => {
        await forge.setDraft(REPO, a, true);
        const c = await forge.addComment(REPO, a, { author: "x", body: "then a comment" });
        await forge.setDraft(REPO, a, false);
        await forge.setDraft(REPO, b, true);
        return c.body;
      }),
    );
    expect(result).toBe("then a comment");
    expect(requests.map((r) => r.mutations)).toEqual([
      ["convertPullRequestToDraft"],
      ["addComment"],
      ["markPullRequestReadyForReview"],
      ["convertPullRequestToDraft"],
    ]);
    expect(fake.pull(REPO, a).draft).toBe(false);
    expect(fake.pull(REPO, b).draft).toBe(true);
    expect(fake.pull(REPO, a).comments.map((c) => c.body)).toEqual(["then a comment"]);
  });

  test("chains running side by side share documents step by step; a nested batch joins the outer one", async () => {
    const [, , c, d] = prs as [number, number, number, number];
    const chain = async (n: number) => {
      await forge.setDraft(REPO, n, true);
      await forge.addComment(REPO, n, { author: "x", body: `demoted #${n}` });
    };
    const { requests } = await measured(() =>
      forge.batch(() => Promise.all([chain(c), forge.batch(() => chain(d))])),
    );
    expect(requests.map((r) => r.mutations)).toEqual([
      ["convertPullRequestToDraft", "convertPullRequestToDraft"],
      ["addComment", "addComment"],
    ]);
    expect([c, d].map((n) => fake.pull(REPO, n).comments.map((x) => x.body))).toEqual([
      [`demoted #${c}`],
      [`demoted #${d}`],
    ]);
  });

  test("calls outside the batch, or on a PR whose node id is unknown, take the usual path", async () => {
    const [, , , , e, f] = prs as number[];
    const stranger = newForge(); // has read no status: knows no node id
    const { requests } = await measured(() =>
      Promise.all([
        forge.batch(async () => {
          await forge.setDraft(REPO, e!, true);
          await stranger.batch(() => stranger.addComment(REPO, f!, { author: "x", body: "unknown PR" }));
        }),
        // Made while the batch is open, but not from inside it.
        forge.addComment(REPO, e!, { author: "x", body: "not in the batch" }),
      ]),
    );
    expect(requests.map((r) => `${r.method} ${r.path} ${r.mutations ?? ""}`).sort()).toEqual(
      [
        `POST /graphql convertPullRequestToDraft`,
        `POST /repos/${REPO}/issues/${e}/comments `,
        `POST /repos/${REPO}/issues/${f}/comments `,
      ].sort(),
    );
    expect(fake.pull(REPO, e!).draft).toBe(true);
  });
});

describe("errors", () => {
  const REPO = "acme/errors";
  let forge: GithubForge;
  let prs: number[];

  beforeAll(async () => {
    forge = newForge({ mutationBatchSize: 3 });
    await fake.createRepo(REPO);
    prs = (await fake.seedPullRequests(REPO, 5)).map((p) => p.number);
    await forge.listPullRequestStatuses(REPO);
  });

  test("an error on one alias fails only that call, with GitHub's message and type", async () => {
    const [open, closed, other] = prs as [number, number, number];
    fake.pull(REPO, closed).state = "closed"; // closed after the status read
    const { result, requests } = await measured(() =>
      forge.batch(() =>
        Promise.allSettled([
          forge.setDraft(REPO, open, true),
          forge.setDraft(REPO, closed, true),
          forge.addComment(REPO, other, { author: "x", body: "   " }),
        ]),
      ),
    );
    expect(requests).toHaveLength(1);
    expect(result[0]).toEqual({ status: "fulfilled", value: undefined });
    expect(fake.pull(REPO, open).draft).toBe(true);
    const reasons = result.map((r) => (r.status === "rejected" ? (r.reason as GithubForgeError) : null));
    expect(reasons[1]).toBeInstanceOf(GithubForgeError);
    expect(reasons[1]!.type).toBe("UNPROCESSABLE");
    expect(reasons[1]!.message).toMatch(
      new RegExp(
        `marking pull request #${closed} of ${REPO} draft failed \\(GraphQL UNPROCESSABLE\\): Pull request is closed`,
      ),
    );
    expect(reasons[2]!.message).toMatch(
      /commenting on #\d+ of acme\/errors failed \(GraphQL UNPROCESSABLE\): Body can't be blank/,
    );
    expect(fake.pull(REPO, closed).draft).toBe(false);
    expect(fake.pull(REPO, other).comments).toEqual([]);
    fake.pull(REPO, closed).state = "open";
  });

  test("a request that gets no GraphQL reply fails the calls it carried, and only those", async () => {
    const [a, b, c, d] = prs.slice(1) as [number, number, number, number];
    // The first document is refused three times (the request and its two retries).
    fake.rateLimitNext(3, "secondary");
    const { result, requests } = await measured(() =>
      forge.batch(() =>
        Promise.allSettled(
          [a, b, c, d].map((n) => forge.addComment(REPO, n, { author: "x", body: `#${n}` })),
        ),
      ),
    );
    expect(requests.map((r) => r.status)).toEqual([403, 403, 403, 200]);
    expect(result.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "fulfilled"]);
    for (const r of result.slice(0, 3)) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(GithubForgeError);
      expect(String((r as PromiseRejectedResult).reason.message)).toMatch(
        /sending a batch of 3 change\(s\).*secondary rate limit/,
      );
    }
    expect([a, b, c, d].map((n) => fake.pull(REPO, n).comments.length)).toEqual([0, 0, 0, 1]);
  });

  test("a failing call inside fn still lets the batch finish the others before rejecting", async () => {
    const [a] = prs as [number];
    let other: Promise<void> | undefined;
    await expect(
      forge.batch(async () => {
        other = forge.setDraft(REPO, a, false);
        throw new Error("fn failed");
      }),
    ).rejects.toThrow("fn failed");
    // Already done when the batch settled.
    expect(fake.pull(REPO, a).draft).toBe(false);
    await other;
  });
});
