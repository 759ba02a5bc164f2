import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ForgeExport } from "../../src/cli/commands/export.ts";
import { openProject } from "../../src/project.ts";
import {
  cleanupTemp,
  gitOut,
  localForgeOf,
  makeRepo,
  pushBranch,
  runCli,
  tempDir,
} from "../support/project.ts";

/** `nightshift export` through the real CLI: the local forge's issues and PRs as JSON. */

afterAll(cleanupTemp);

describe("nightshift export", () => {
  it("prints every issue with its comments and every PR with state, head, base, checks and comments", async () => {
    const repo = await makeRepo({ "app.txt": "v1\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    // As the README advises: routines and config committed (state/ stays ignored).
    await gitOut(repo, "add", ".nightshift");
    await gitOut(repo, "commit", "--quiet", "-m", "nightshift");
    expect(
      (
        await runCli(repo, [
          "issue",
          "create",
          "--title",
          "Fix the parser",
          "--body",
          "It breaks on tabs.",
          "--label",
          "bug",
        ])
      ).exitCode,
    ).toBe(0);
    expect((await runCli(repo, ["issue", "create", "--title", "Old idea"])).exitCode).toBe(0);
    expect((await runCli(repo, ["issue", "comment", "1", "--body", "Seen it too."])).exitCode).toBe(0);
    expect((await runCli(repo, ["issue", "close", "2"])).exitCode).toBe(0);

    const p = await openProject(repo);
    let headSha: string;
    try {
      await p.forge.repo(p.repoName);
      const forge = localForgeOf(p);
      const bare = forge.barePath(p.repoName);
      headSha = await pushBranch(repo, bare, "fix-parser", "main", { "app.txt": "v2\n" });
      await pushBranch(repo, bare, "abandoned", "main", { "x.txt": "x\n" });
      await p.forge.createPullRequest(p.repoName, {
        title: "Fix the parser",
        body: "Closes #1.",
        head: "fix-parser",
        base: "main",
        draft: true,
        sessionId: null,
      });
      const dropped = await p.forge.createPullRequest(p.repoName, {
        title: "Abandoned",
        body: "",
        head: "abandoned",
        base: "main",
        draft: false,
        sessionId: null,
      });
      await p.forge.closePullRequest(p.repoName, dropped.number);
      await forge.recordCheck(p.repoName, headSha, {
        name: "ci",
        status: "completed",
        conclusion: "failure",
        required: true,
        output: "1 test failed\n",
      });
      await p.forge.addComment(p.repoName, 3, { author: "alice", body: "Looks close." });
    } finally {
      await p.close();
    }

    const r = await runCli(repo, ["export"]);
    expect(r.exitCode).toBe(0);
    const data = JSON.parse(r.stdout) as ForgeExport;
    expect(data).toMatchObject({ format: "nightshift-forge-export", version: 1 });
    expect(data.exported_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(data.issues).toHaveLength(2);
    expect(data.issues[0]).toMatchObject({
      number: 1,
      title: "Fix the parser",
      body: "It breaks on tabs.",
      labels: ["bug"],
      state: "open",
      comments: [{ body: "Seen it too.", created_at: expect.stringMatching(/Z$/) }],
    });
    expect(data.issues[1]).toMatchObject({ number: 2, state: "closed", comments: [] });
    expect(data.pull_requests).toHaveLength(2);
    expect(data.pull_requests[0]).toMatchObject({
      number: 3,
      state: "open",
      draft: true,
      head: "fix-parser",
      base: "main",
      head_sha: headSha,
      body: "Closes #1.",
      checks: [
        { name: "ci", status: "completed", conclusion: "failure", required: true, output: "1 test failed\n" },
      ],
      comments: [{ author: "alice", body: "Looks close." }],
      review_threads: [],
    });
    expect(data.pull_requests[1]).toMatchObject({
      number: 4,
      state: "closed",
      head: "abandoned",
      checks: [],
    });

    // --out writes the same JSON to a private file and says what it wrote on stderr.
    const file = join(tempDir(), "forge.json");
    const written = await runCli(repo, ["export", "--out", file]);
    expect(written.exitCode).toBe(0);
    expect(written.stdout).toBe("");
    expect(written.stderr).toContain(`wrote 2 issues and 2 pull requests to ${file}`);
    const fromFile = JSON.parse(readFileSync(file, "utf8")) as ForgeExport;
    expect({ ...fromFile, exported_at: "" }).toEqual({ ...data, exported_at: "" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 120_000);

  it("an empty forge exports empty lists; a GitHub project and an unwritable --out are refused with the fix", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    const empty = JSON.parse((await runCli(repo, ["export"])).stdout) as ForgeExport;
    expect(empty).toMatchObject({ issues: [], pull_requests: [] });

    const bad = await runCli(repo, ["export", "--out", join(repo, "no", "such", "dir", "x.json")]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("pass --out a writable path");

    const gh = await makeRepo({ "README.md": "x\n" });
    expect((await runCli(gh, ["init"])).exitCode).toBe(0);
    writeFileSync(join(gh, ".nightshift", "config.yaml"), "forge:\n  type: github\n  repo: octo/demo\n");
    const refused = await runCli(gh, ["export"], {
      GITHUB_TOKEN: "ghp_notarealtokennotarealtokennotarealtok",
    });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("export reads the local forge; this project's forge is github");
  }, 120_000);
});
