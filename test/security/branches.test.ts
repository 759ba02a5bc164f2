/**
 * A session may only push the branch it created. An agent that checks out another session's
 * branch (fetched from the mirror) and commits on it must not move that branch or open a
 * second pull request on it; the clone it gets holds only the base branch; and a bare branch
 * name under the prefix is never taken by the deque's ledger as "this issue has a PR".
 */
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import { resetSandbox } from "../../src/runner/sandbox/wrap.ts";
import { runSession } from "../../src/runner/session.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { readLedger } from "../../src/deque/ledger.ts";
import {
  branches,
  cleanupTemp,
  gitOut,
  localForgeOf,
  makeRepo,
  pushBranch,
  tempDir,
  writeRoutine,
} from "../support/project.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const sandbox = await sandboxAvailable();

afterAll(async () => {
  await resetSandbox();
  cleanupTemp();
});

/** A project with routine `a`, which opens a PR, and an environment `open` (unsandboxed). */
async function setUp(): Promise<Project> {
  const repo = await makeRepo({ "README.md": "# demo\n", "notes.txt": "n\n" });
  writeRoutine(repo, "a", `agent: command\ncommand: "echo from-a >> notes.txt"\ntimeout: 2m`);
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    "environments:\n  open:\n    sandbox: none\n    network: none\n",
  );
  return openProject(repo);
}

/** A working clone of the forge's bare repository, to push branches and tags as a person would. */
async function personClone(bare: string): Promise<string> {
  const dir = join(tempDir(), "person");
  await gitOut(tempDir(), "clone", "-q", bare, dir);
  return dir;
}

/** Writes routine `b` running `command` (with `$NS_MIRROR` and `$NS_TARGET` filled in). */
function routineB(p: Project, command: string, target: string, env?: "open"): void {
  const filled = command
    .replaceAll("$NS_MIRROR", join(p.stateDir, "mirrors", `${p.repoName}.git`))
    .replaceAll("$NS_TARGET", target);
  writeRoutine(
    p.root,
    "b",
    `agent: command\ncommand: ${JSON.stringify(filled)}\ntimeout: 2m${env ? `\nenvironment: ${env}` : ""}`,
  );
}

describe("a session's branch", () => {
  it("cannot be another session's: HEAD on a fetched branch of another PR is refused, that PR is unchanged", async () => {
    // Even unsandboxed (so the agent can read the mirror), the runner pushes only its own branch.
    const attack =
      'git fetch -q "$NS_MIRROR" "refs/heads/$NS_TARGET" && git checkout -q -B "$NS_TARGET" FETCH_HEAD && ' +
      "echo hijack >> notes.txt && git -c user.name=x -c user.email=x@e.invalid commit -qam hijack";
    const p = await setUp();
    const a = await runSession(p, { routine: loadRoutine(p.root, "a") });
    routineB(p, attack, a.branch!, "open");
    // The mirror has every forge branch once some session fetched after a's push.
    await gitOut(join(p.stateDir, "mirrors", `${p.repoName}.git`), "fetch", "-q", "origin");
    expect(a, a.reason ?? "").toMatchObject({ state: "succeeded", task_outcome: "pr_opened" });
    const bare = localForgeOf(p).barePath(p.repoName);
    const before = await gitOut(bare, "rev-parse", `refs/heads/${a.branch}`);
    const b = await runSession(p, { routine: loadRoutine(p.root, "b") });
    expect(b, `${b.reason}`).toMatchObject({
      state: "failed",
      infra_outcome: "ok",
      task_outcome: "push_refused",
    });
    expect(b.reason).toContain(`left HEAD on branch "${a.branch}"`);
    expect(await gitOut(bare, "rev-parse", `refs/heads/${a.branch}`)).toBe(before);
    const prs = await p.forge.listPullRequests(p.repoName, { state: "all" });
    expect(prs.map((pr) => pr.head)).toEqual([a.branch]);
    await p.close();
  }, 60_000);

  it.skipIf(!sandbox.ok)(
    "starts from a clone holding only the base branch; the mirror's refs are unreadable",
    async () => {
      const probe =
        'git branch -a --format="%(refname)"; git tag; ls "$NS_MIRROR/refs/heads" 2>&1; cat "$NS_MIRROR/packed-refs" 2>&1; ' +
        'git fetch -q "$NS_MIRROR" "refs/heads/$NS_TARGET" 2>&1 || echo fetch-refused';
      const p = await setUp();
      const a = await runSession(p, { routine: loadRoutine(p.root, "a") });
      routineB(p, probe, a.branch!);
      expect(a.state, a.reason ?? "").toBe("succeeded");
      // Another branch and a tag on the forge, so the mirror has them.
      const bare = localForgeOf(p).barePath(p.repoName);
      const person = await personClone(bare);
      await pushBranch(person, bare, "feature/other", "main", { "x.txt": "x\n" });
      await gitOut(person, "tag", "release-tag-zz");
      await gitOut(person, "push", "-q", bare, "release-tag-zz");
      await gitOut(join(p.stateDir, "mirrors", `${p.repoName}.git`), "fetch", "-q", "origin");
      const b = await runSession(p, { routine: loadRoutine(p.root, "b") });
      // What the agent printed (its command line, which names the target, is recorded apart).
      const out = (await readEvents<{ type: string; text?: string }>(p.store.db, b.id))
        .filter((e) => e.data.type === "assistant" || e.data.type === "stderr")
        .map((e) => e.data.text)
        .join("\n");
      expect(b.state, `${b.reason}\n${out}`).toBe("succeeded");
      expect(out).toContain("refs/remotes/origin/main");
      expect(out).toContain("fetch-refused");
      expect(out).not.toContain(a.branch!);
      expect(out).not.toContain("feature/other");
      expect(out).not.toContain("release-tag-zz");
      expect(await branches(bare)).toEqual(["feature/other", "main", a.branch!].sort());
      await p.close();
    },
    60_000,
  );

  it("a bare branch named like an issue branch, even with a PR a person opened on it, is not in the ledger", async () => {
    const p = await setUp();
    const bare = localForgeOf(p).barePath(p.repoName);
    await runSession(p, { routine: loadRoutine(p.root, "a") });
    await pushBranch(await personClone(bare), bare, "nightshift/issue-5-abc", "main", { "y.txt": "y\n" });
    await p.forge.createPullRequest(p.repoName, {
      title: "looks like ours [ns:abc]",
      body: "Refs #5",
      head: "nightshift/issue-5-abc",
      base: "main",
      draft: true,
      sessionId: null,
    });
    const ledger = await readLedger(p.forge, p.repoName, "nightshift/");
    expect(ledger.openByIssue.get(5)).toBeUndefined();
    expect(ledger.open.map((pr) => pr.head)).not.toContain("nightshift/issue-5-abc");
    expect(ledger.open).toHaveLength(1);
    await p.close();
  }, 60_000);
});
