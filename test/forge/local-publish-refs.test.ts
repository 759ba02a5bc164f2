import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LocalForge } from "../../src/forge/local/local-forge.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { plainGitDir, readHeadBranch, readRefFile } from "../../src/util/git-refs.ts";
import { cleanupTemp, gitOut, makeRepo, tempDir, writeFiles } from "../support/project.ts";

/**
 * Publishing a repository to the local forge reads the source's and the forge's refs from
 * their files (src/util/git-refs.ts), so a session start whose base branch is already published
 * runs no git process there; whatever the files do not plainly say is asked of git, with the
 * same answers.
 */

let store: Store;
let traceFile: string;

beforeAll(async () => {
  store = await openStore(join(tempDir(), "nightshift.db"));
  traceFile = join(tempDir(), "trace2.jsonl");
});

afterEach(() => {
  delete process.env.GIT_TRACE2_EVENT;
});

afterAll(async () => {
  await store.close();
  cleanupTemp();
});

/** The git commands (argv after `git`) run while `fn` ran, from git's own trace. */
async function gitCommandsDuring<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  rmSync(traceFile, { force: true });
  process.env.GIT_TRACE2_EVENT = traceFile;
  let result: T;
  try {
    result = await fn();
  } finally {
    delete process.env.GIT_TRACE2_EVENT;
  }
  const commands = existsSync(traceFile)
    ? readFileSync(traceFile, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { event: string; sid: string; argv?: string[] })
        .filter((e) => e.event === "start" && !e.sid.includes("/"))
        .map((e) => (e.argv ?? []).slice(1).join(" "))
    : [];
  return { result, commands };
}

function forgeFor(source: string, base?: string): LocalForge {
  return new LocalForge({
    db: store.db,
    dir: join(tempDir(), "forge"),
    sources: [{ name: "demo", path: source, ...(base ? { base } : {}) }],
    clock: new ManualClock(),
  });
}

describe("publishing to the local forge", () => {
  it("runs no git process when the source's base branch is already published, and republishes a new commit", async () => {
    const source = await makeRepo({ "README.md": "one\n" });
    const forge = forgeFor(source);
    const first = await forge.repo("demo");
    const head = await gitOut(source, "rev-parse", "HEAD");
    expect(first).toMatchObject({ defaultBranch: "main", defaultBranchSha: head });

    const again = await gitCommandsDuring(() => forge.repo("demo"));
    expect(again.commands).toEqual([]);
    expect(again.result).toEqual(first);

    // A new commit in the source: published again (a fetch), and the forge has it.
    writeFiles(source, { "README.md": "two\n" });
    await gitOut(source, "commit", "--quiet", "-am", "two");
    const next = await gitOut(source, "rev-parse", "HEAD");
    const moved = await gitCommandsDuring(() => forge.repo("demo"));
    expect(moved.result.defaultBranchSha).toBe(next);
    expect(moved.commands.some((c) => c.startsWith("fetch"))).toBe(true);
    expect(await gitOut(first.remoteUrl, "rev-parse", "refs/heads/main")).toBe(next);

    // Packed refs (git gc, pack-refs) on both sides: still read from the files.
    await gitOut(source, "pack-refs", "--all");
    await gitOut(first.remoteUrl, "pack-refs", "--all");
    const packed = await gitCommandsDuring(() => forge.repo("demo"));
    expect(packed.commands).toEqual([]);
    expect(packed.result.defaultBranchSha).toBe(next);
  });

  it("asks git when the files do not plainly say: a detached HEAD, a linked worktree", async () => {
    const source = await makeRepo({ "README.md": "one\n" });
    const head = await gitOut(source, "rev-parse", "HEAD");
    await gitOut(source, "switch", "--quiet", "--detach");
    // Detached: no branch from HEAD, so git's answer (none: "main" by default).
    expect(readHeadBranch(join(source, ".git"))).toBeUndefined();
    const detached = await forgeFor(source).repo("demo");
    expect(detached).toMatchObject({ defaultBranch: "main", defaultBranchSha: head });

    // A linked worktree's `.git` is a file: git resolves it.
    const worktree = join(tempDir(), "wt");
    await gitOut(source, "worktree", "add", "--quiet", "-b", "feature", worktree);
    expect(plainGitDir(worktree)).toBeUndefined();
    const linked = await gitCommandsDuring(() => forgeFor(worktree).repo("demo"));
    expect(linked.result).toMatchObject({ defaultBranch: "feature", defaultBranchSha: head });
    expect(linked.commands.some((c) => c.startsWith("symbolic-ref"))).toBe(true);
  });

  it("reports a source without a commit on its branch, as before", async () => {
    const source = join(tempDir(), "empty");
    await makeRepo({ "a.txt": "a\n" }, source);
    await expect(forgeFor(source, "nope").repo("demo")).rejects.toThrow(
      /has no commit on branch "nope"; commit something first/,
    );
  });
});

describe("git-refs", () => {
  it("reads loose and packed branch refs and HEAD, and refuses anything else", async () => {
    const repo = await makeRepo({ "a.txt": "a\n" });
    const gitDir = plainGitDir(repo)!;
    expect(gitDir).toBe(join(repo, ".git"));
    const head = await gitOut(repo, "rev-parse", "HEAD");
    expect(readHeadBranch(gitDir)).toBe("main");
    expect(readRefFile(gitDir, "refs/heads/main")).toBe(head);
    await gitOut(repo, "pack-refs", "--all");
    expect(existsSync(join(gitDir, "refs", "heads", "main"))).toBe(false);
    expect(readRefFile(gitDir, "refs/heads/main")).toBe(head);
    expect(readRefFile(gitDir, "refs/heads/none")).toBeUndefined();
    expect(readRefFile(gitDir, "refs/tags/v1")).toBeUndefined();
    expect(readRefFile(gitDir, "refs/heads/../../HEAD")).toBeUndefined();
    // Names git refuses (reftable's HEAD placeholder among them) are left to git.
    for (const bad of [
      "refs/heads/.invalid",
      "refs/heads/a:b",
      "refs/heads/a b",
      "refs/heads/x.lock",
      "refs/heads/",
    ])
      expect(readRefFile(gitDir, bad)).toBeUndefined();

    const bare = join(tempDir(), "bare.git");
    await gitOut(repo, "clone", "--quiet", "--bare", repo, bare);
    expect(plainGitDir(bare)).toBe(bare);
    expect(readHeadBranch(bare)).toBe("main");
    expect(plainGitDir(join(repo, "missing"))).toBeUndefined();
  });
});
