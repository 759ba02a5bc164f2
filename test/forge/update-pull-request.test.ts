/**
 * `Forge.updatePullRequest` (a follow-up rewrites its PR's body) on the local forge (real git,
 * real store) and on the GitHub adapter against the fake GitHub (real HTTP on 127.0.0.1, the
 * fake checking the request as GitHub does).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GithubForgeError } from "../../src/forge/github/errors.ts";
import { GithubForge } from "../../src/forge/github/github-forge.ts";
import { ForgeError } from "../../src/forge/types.ts";
import { openProject } from "../../src/project.ts";
import { FakeGithub, fakeThrottle } from "../support/fake-github/index.ts";
import { cleanupTemp, gitOut, localForgeOf, makeRepo, pushBranch, runCli } from "../support/project.ts";

afterAll(cleanupTemp);

describe("local forge", () => {
  it("replaces the body and/or title, keeps the rest, and refuses an unknown PR or an empty change", async () => {
    const repo = await makeRepo({ "app.txt": "v1\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    const p = await openProject(repo);
    try {
      await p.forge.repo(p.repoName);
      const bare = localForgeOf(p).barePath(p.repoName);
      await pushBranch(repo, bare, "feature", await gitOut(repo, "rev-parse", "main"), { "f.txt": "x\n" });
      const pr = await p.forge.createPullRequest(p.repoName, {
        title: "First title",
        body: "First body.",
        head: "feature",
        base: "main",
        draft: true,
        sessionId: "sess-1",
      });

      const updated = await p.forge.updatePullRequest(p.repoName, pr.number, {
        body: "The whole conversation.",
      });
      expect(updated).toMatchObject({
        title: "First title",
        body: "The whole conversation.",
        sessionId: "sess-1",
      });
      const read = await p.forge.getPullRequest(p.repoName, pr.number);
      expect(read).toMatchObject({
        title: "First title",
        body: "The whole conversation.",
        sessionId: "sess-1",
        draft: true,
        state: "open",
        head: "feature",
      });

      const retitled = await p.forge.updatePullRequest(p.repoName, pr.number, { title: "Second title" });
      expect(retitled).toMatchObject({ title: "Second title", body: "The whole conversation." });

      // Also on a closed PR, as on GitHub.
      await p.forge.closePullRequest(p.repoName, pr.number);
      await p.forge.updatePullRequest(p.repoName, pr.number, { body: "" });
      expect((await p.forge.getPullRequest(p.repoName, pr.number)).body).toBe("");

      const unknown = p.forge.updatePullRequest(p.repoName, 999, { body: "x" });
      await expect(unknown).rejects.toBeInstanceOf(ForgeError);
      await expect(unknown).rejects.toThrow(`${p.repoName} has no pull request #999`);
      await expect(p.forge.updatePullRequest(p.repoName, pr.number, {})).rejects.toThrow(
        /nothing to change on pull request #\d+ .*give a title, a body or both/,
      );
      await expect(p.forge.updatePullRequest(p.repoName, pr.number, { title: "  " })).rejects.toThrow(
        /title .* is blank/,
      );
      expect((await p.forge.getPullRequest(p.repoName, pr.number)).title).toBe("Second title");
    } finally {
      await p.close();
    }
  });
});

describe("GitHub forge against the fake GitHub", () => {
  let fake: FakeGithub;
  let forge: GithubForge;
  beforeAll(async () => {
    fake = await FakeGithub.start();
    forge = new GithubForge({
      apiUrl: fake.url,
      token: "fake-token",
      gitUrl: (o, r) => fake.gitUrl(o, r),
      throttle: fakeThrottle(),
    });
    await fake.createRepo("acme/widgets", { files: { "README.md": "hi\n" } });
    await fake.commit("acme/widgets", "feature", { "f.txt": "x\n" });
  });
  afterAll(async () => fake.close());
  afterEach(() => {
    expect(fake.unhandled).toEqual([]);
    expect(fake.rejectedDocuments).toEqual([]);
  });

  it("PATCHes the body, keeping the session marker, and the title alone in one request", async () => {
    const pr = await forge.createPullRequest("acme/widgets", {
      title: "Add f",
      body: "First report.",
      head: "feature",
      base: "main",
      draft: true,
      sessionId: "sess-gh-1",
    });
    const from = fake.requests.length;
    const updated = await forge.updatePullRequest("acme/widgets", pr.number, {
      body: "Conversation so far.",
    });
    expect(updated).toMatchObject({ body: "Conversation so far.", sessionId: "sess-gh-1", title: "Add f" });
    const wire = fake.requests.slice(from);
    expect(wire.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/acme/widgets/pulls/${pr.number}`,
      `PATCH /repos/acme/widgets/pulls/${pr.number}`,
    ]);
    expect(wire[1]!.status).toBe(200);
    // The stored body carries the hidden marker; the adapter reads it back as sessionId.
    expect(fake.pull("acme/widgets", pr.number).body).toBe(
      "Conversation so far.\n\n<!-- nightshift-session: sess-gh-1 -->",
    );
    expect(await forge.getPullRequest("acme/widgets", pr.number)).toMatchObject({
      body: "Conversation so far.",
      sessionId: "sess-gh-1",
    });

    const before = fake.requests.length;
    const retitled = await forge.updatePullRequest("acme/widgets", pr.number, { title: "Add f, then more" });
    expect(retitled).toMatchObject({ title: "Add f, then more", body: "Conversation so far." });
    expect(fake.requests.length - before).toBe(1);
  });

  it("an unknown pull request is a 404 that becomes a ForgeError saying what and where", async () => {
    const err = await forge.updatePullRequest("acme/widgets", 4242, { body: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toBeInstanceOf(GithubForgeError);
    expect((err as GithubForgeError).status).toBe(404);
    expect((err as Error).message).toMatch(
      /^GitHub: updating pull request #4242 of acme\/widgets .*failed \(HTTP 404\)/,
    );
    expect((err as Error).message).not.toContain("fake-token");
    // A title-only change goes straight to the PATCH: the same 404.
    const err2 = await forge.updatePullRequest("acme/widgets", 4243, { title: "t" }).catch((e: unknown) => e);
    expect((err2 as GithubForgeError).status).toBe(404);
    expect((err2 as Error).message).toContain(
      "updating pull request #4243 of acme/widgets failed (HTTP 404)",
    );
    // Bad input is refused before any request.
    const n = fake.requests.length;
    await expect(forge.updatePullRequest("acme/widgets", 1, {})).rejects.toThrow(/nothing to change/);
    await expect(forge.updatePullRequest("acme/widgets", 1, { title: "" })).rejects.toThrow(/blank/);
    expect(fake.requests.length).toBe(n);
  });

  it("the fake checks the request as GitHub does: 404 for an issue's number, 422 for mistyped fields", async () => {
    const issue = fake.createIssue("acme/widgets", { title: "An issue" });
    await fake.commit("acme/widgets", "typed", { "t.txt": "t\n" });
    const pull = await forge.createPullRequest("acme/widgets", {
      title: "Typed",
      body: "Body.",
      head: "typed",
      base: "main",
      draft: false,
      sessionId: null,
    });
    const patch = (number: number, body: unknown) =>
      fetch(`${fake.url}/repos/acme/widgets/pulls/${number}`, {
        method: "PATCH",
        headers: { authorization: "token fake-token", "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then(async (r) => ({
        status: r.status,
        json: (await r.json()) as { message: string; body?: string },
      }));

    expect((await patch(issue.number, { body: "x" })).status).toBe(404);
    const badTitle = await patch(pull.number, { title: 123 });
    expect(badTitle).toMatchObject({
      status: 422,
      json: { message: "Invalid request.\n\nFor 'properties/title', 123 is not a string." },
    });
    const badBody = await patch(pull.number, { body: false });
    expect(badBody.json.message).toBe(
      "Invalid request.\n\nFor 'properties/body', false is not a string or null.",
    );
    expect((await patch(pull.number, { title: "ok", state: "merged" })).status).toBe(422);
    // Nothing changed on a refused request; null clears the body.
    expect(fake.pull("acme/widgets", pull.number)).toMatchObject({ title: "Typed", body: "Body." });
    const cleared = await patch(pull.number, { body: null, unknown_field: 1 });
    expect(cleared.status).toBe(200);
    expect(cleared.json.body ?? "").toBe("");
  });
});
