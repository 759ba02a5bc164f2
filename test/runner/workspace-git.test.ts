/**
 * The workspace's git steps with fewer git processes (src/runner/workspace/): the mirror's
 * freshness read from its ref files, the runner's own git dir written without `git config`,
 * `update-ref` and `symbolic-ref`, and the clone with its runner git dir made in parallel.
 * Real git throughout; every shortcut is checked against what git itself says.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloneWorkspace, NO_PUSH_URL } from "../../src/runner/workspace/clone.ts";
import { readRefFile, updateMirror } from "../../src/runner/workspace/mirror.ts";
import { initRunnerGitDir, runnerGit } from "../../src/runner/workspace/runner-git.ts";
import { cleanupTemp, gitOut, makeRepo, tempDir } from "../support/project.ts";

afterAll(cleanupTemp);

async function commit(repo: string, file: string, text: string): Promise<string> {
  writeFileSync(join(repo, file), text);
  await gitOut(repo, "add", "--all");
  await gitOut(repo, "commit", "--quiet", "-m", `change ${file}`);
  return gitOut(repo, "rev-parse", "HEAD");
}

describe("the mirror", () => {
  it("reads a branch's commit from packed-refs and from a loose ref file, as git does", async () => {
    const source = await makeRepo({ "a.txt": "1\n" });
    await gitOut(source, "branch", "feature/x");
    const mirrors = tempDir();
    const mirror = await updateMirror(mirrors, "repo", source);
    // A fresh `clone --mirror` packs its refs.
    expect(existsSync(join(mirror, "packed-refs"))).toBe(true);
    for (const ref of ["refs/heads/main", "refs/heads/feature/x"])
      expect(readRefFile(mirror, ref)).toBe(await gitOut(mirror, "rev-parse", ref));
    // A fetch writes loose refs, which win over packed-refs.
    const next = await commit(source, "a.txt", "2\n");
    await updateMirror(mirrors, "repo", source, { ref: "refs/heads/main", sha: next });
    expect(readRefFile(mirror, "refs/heads/main")).toBe(next);
    expect(await gitOut(mirror, "rev-parse", "refs/heads/main")).toBe(next);
    // Anything it cannot plainly read is left to git.
    expect(readRefFile(mirror, "refs/heads/none")).toBeUndefined();
    expect(readRefFile(mirror, "refs/heads/../../HEAD")).toBeUndefined();
    expect(readRefFile(mirror, "HEAD")).toBeUndefined();
  });

  it("is fetched only when it lacks the expected commit", async () => {
    const source = await makeRepo({ "a.txt": "1\n" });
    const mirrors = tempDir();
    const mirror = await updateMirror(mirrors, "repo", source);
    const first = await gitOut(mirror, "rev-parse", "refs/heads/main");
    // Fresh: a commit in the source is not fetched while the expected commit is already there.
    const second = await commit(source, "a.txt", "2\n");
    await updateMirror(mirrors, "repo", source, { ref: "refs/heads/main", sha: first });
    expect(await gitOut(mirror, "rev-parse", "refs/heads/main")).toBe(first);
    // Stale: expecting the new commit fetches it.
    await updateMirror(mirrors, "repo", source, { ref: "refs/heads/main", sha: second });
    expect(await gitOut(mirror, "rev-parse", "refs/heads/main")).toBe(second);
  });
});

describe("the runner's git dir", () => {
  it("is what git config, update-ref and symbolic-ref would have made", async () => {
    const source = await makeRepo({ "a.txt": "1\n" });
    const mirror = await updateMirror(tempDir(), "repo", source);
    const sha = await gitOut(mirror, "rev-parse", "refs/heads/main");
    const dir = tempDir();
    const repo = await initRunnerGitDir({
      gitDir: join(dir, "git", "repo.git"),
      workTree: join(dir, "workspace"),
      mirror,
      branch: "nightshift/review-abc",
      headSha: sha,
    });
    const gitDir = repo.gitDir;
    expect(await gitOut(gitDir, "config", "--file", join(gitDir, "config"), "--bool", "core.bare")).toBe(
      "false",
    );
    expect(await gitOut(gitDir, "--git-dir", gitDir, "symbolic-ref", "HEAD")).toBe(
      "refs/heads/nightshift/review-abc",
    );
    expect(await gitOut(gitDir, "--git-dir", gitDir, "rev-parse", "--verify", "HEAD^{commit}")).toBe(sha);
    expect(readFileSync(join(gitDir, "objects", "info", "alternates"), "utf8")).toBe(
      `${join(mirror, "objects")}\n`,
    );
  });

  it("refuses a branch name git refuses and a start that is not a commit id", async () => {
    const source = await makeRepo({ "a.txt": "1\n" });
    const mirror = await updateMirror(tempDir(), "repo", source);
    const sha = await gitOut(mirror, "rev-parse", "refs/heads/main");
    const dir = tempDir();
    const opts = { gitDir: join(dir, "git.git"), workTree: join(dir, "w"), mirror };
    await expect(initRunnerGitDir({ ...opts, branch: "../../escape", headSha: sha })).rejects.toThrow(
      /invalid initial branch name/,
    );
    await expect(initRunnerGitDir({ ...opts, branch: "ok", headSha: "main" })).rejects.toThrow(
      /not a full commit id/,
    );
  });
});

describe("cloneWorkspace", () => {
  for (const known of [true, false]) {
    it(`gives the agent a clone on its branch and the runner an equal view (base commit ${known ? "known" : "read from the clone"})`, async () => {
      const source = await makeRepo({ "a.txt": "1\n", "src/b.txt": "2\n" });
      const mirror = await updateMirror(tempDir(), "repo", source);
      const sha = await gitOut(mirror, "rev-parse", "refs/heads/main");
      const dir = tempDir();
      const dest = join(dir, "workspace", "repo");
      const clone = await cloneWorkspace({
        mirror,
        remoteUrl: source,
        dest,
        base: "main",
        ...(known ? { baseSha: sha } : {}),
        branch: "nightshift/r-1",
        runnerGitDir: join(dir, "git", "repo.git"),
      });
      expect(clone.baseSha).toBe(sha);
      expect(await gitOut(dest, "symbolic-ref", "HEAD")).toBe("refs/heads/nightshift/r-1");
      expect(await gitOut(dest, "rev-parse", "HEAD")).toBe(sha);
      expect(await gitOut(dest, "config", "remote.origin.url")).toBe(source);
      expect(await gitOut(dest, "config", "remote.origin.pushurl")).toBe(NO_PUSH_URL);
      // The runner's view: same branch and commit, a clean tree (the copied index matches).
      expect(await runnerGit(clone.runner, ["symbolic-ref", "HEAD"])).toBe("refs/heads/nightshift/r-1");
      expect(await runnerGit(clone.runner, ["rev-parse", "HEAD"])).toBe(sha);
      expect(await runnerGit(clone.runner, ["status", "--porcelain"])).toBe("");
      writeFileSync(join(dest, "a.txt"), "changed\n");
      expect(await runnerGit(clone.runner, ["status", "--porcelain"])).toBe(" M a.txt");
    });
  }

  it("fails on a base branch the mirror does not have, once the runner git dir made beside it is done", async () => {
    const source = await makeRepo({ "a.txt": "1\n" });
    const mirror = await updateMirror(tempDir(), "repo", source);
    const sha = await gitOut(mirror, "rev-parse", "refs/heads/main");
    const dir = tempDir();
    await expect(
      cloneWorkspace({
        mirror,
        remoteUrl: source,
        dest: join(dir, "workspace", "repo"),
        base: "no-such-branch",
        baseSha: sha,
        branch: "nightshift/r-2",
        runnerGitDir: join(dir, "git", "repo.git"),
      }),
    ).rejects.toThrow(/no-such-branch/);
    expect(existsSync(join(dir, "git", "repo.git", "refs", "heads", "nightshift", "r-2"))).toBe(true);
  });
});
