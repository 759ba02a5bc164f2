import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { runSession } from "../../src/runner/session.ts";
import type { TranscriptEvent } from "../../src/runner/transcript/events.ts";
import { listDeliveries } from "../../src/store/deliveries.ts";
import { findSession, insertSession, updateSession } from "../../src/store/sessions.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { alive, until } from "../support/processes.ts";
import { branches, cleanupTemp, gitOut, makeRepo, writeRoutine, localForgeOf } from "../support/project.ts";

afterAll(cleanupTemp);

/** A project around a fresh repository with one `command` routine. */
async function projectWith(
  command: string,
  extra = "",
  clock?: ManualClock,
): Promise<{ project: Project; repo: string }> {
  const repo = await makeRepo({ "README.md": "# demo\n", "src/app.txt": "one\ntwo\n" });
  writeRoutine(repo, "task", `agent: command\ncommand: ${JSON.stringify(command)}\ntimeout: 10m\n${extra}`);
  const project = await openProject(repo, clock ? { clock } : {});
  return { project, repo };
}

/** Host pids of live processes whose command line is exactly `cmd`. */
function processesRunning(cmd: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim() === cmd && alive(Number(d))
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function kinds(project: Project, id: string): Promise<string[]> {
  return (await readEvents(project.store.db, id)).map((e) => e.kind);
}

describe("a session", () => {
  it("that changes nothing leaves no branch and no pull request", async () => {
    const { project } = await projectWith("echo 'looked around, nothing to do'");
    const s = await runSession(project, { routine: loadRoutine(project.root, "task") });
    expect(s, `${s.reason}`).toMatchObject({
      state: "succeeded",
      infra_outcome: "ok",
      task_outcome: "no_changes",
      pr_number: null,
    });
    expect(await branches(localForgeOf(project).barePath(project.repoName))).toEqual(["main"]);
    expect(await project.forge.listPullRequests(project.repoName, { state: "all" })).toEqual([]);
    expect((await listDeliveries(project.store.db, s.id)).map((d) => d.action)).toEqual(["no_changes"]);
    await project.close();
  });

  it("commits what the agent left, with trailers, on top of the agent's own commits, and opens a draft", async () => {
    const { project } = await projectWith(
      "echo three >> src/app.txt && git commit -qam 'agent: add three' && echo new > notes.txt && (git push -q origin HEAD:main 2>/dev/null || echo push-blocked)",
    );
    const s = await runSession(project, { routine: loadRoutine(project.root, "task") });
    const transcript = JSON.stringify((await readEvents(project.store.db, s.id)).map((e) => e.data));
    expect(s, `${s.reason}\n${transcript}`).toMatchObject({
      state: "succeeded",
      task_outcome: "pr_opened",
      files_changed: 2,
      insertions: 2,
      deletions: 0,
    });
    const bare = localForgeOf(project).barePath(project.repoName);
    expect(await branches(bare)).toEqual(["main", `nightshift/task-${s.id}`]);
    // The agent could not push to main itself: the workspace has no usable push URL.
    expect(await gitOut(bare, "rev-parse", "main")).toBe(s.base_sha);
    const texts = (await readEvents<TranscriptEvent>(project.store.db, s.id)).map((e) => e.data);
    expect(texts).toContainEqual({ type: "assistant", text: "push-blocked" });
    const log = await gitOut(
      bare,
      "log",
      "--format=%an|%s|%(trailers:only,unfold)",
      `main..nightshift/task-${s.id}`,
    );
    expect(log).toContain(
      `nightshift|Changes by the task routine|Nightshift-Session: ${s.id}\nNightshift-Routine: task`,
    );
    expect(log).toContain("nightshift agent|agent: add three|");
    const pr = await project.forge.getPullRequest(project.repoName, s.pr_number!);
    expect(pr).toMatchObject({
      draft: true,
      state: "open",
      head: `nightshift/task-${s.id}`,
      base: "main",
      sessionId: s.id,
    });
    expect(pr.body).toContain("2 files changed, +2 −0");
    expect(pr.body).toContain(`nightshift logs ${s.id}`);
    const diff = await project.forge.pullRequestDiff(project.repoName, pr.number);
    expect(diff).toContain("+three");
    expect(diff).toContain("+new");
    await project.close();
  });

  it("refuses and records a push to a branch outside the routine's prefix", async () => {
    const { project } = await projectWith("git switch -q -c feature/mine && echo x >> README.md");
    const s = await runSession(project, { routine: loadRoutine(project.root, "task") });
    expect(s, `${s.reason}`).toMatchObject({
      state: "failed",
      infra_outcome: "ok",
      task_outcome: "push_refused",
      pr_number: null,
    });
    expect(s.reason).toContain('branch "feature/mine" is outside the routine\'s branch prefix "nightshift/"');
    expect(await branches(localForgeOf(project).barePath(project.repoName))).toEqual(["main"]);
    const ledger = await listDeliveries(project.store.db, s.id);
    // Refused before anything is committed: the runner only takes the session's own branch.
    expect(ledger.map((d) => [d.action, d.ref])).toEqual([["push_refused", "feature/mine"]]);
    await project.close();
  });

  it("fails before spawning anything when the agent has no credentials, and says what to set", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "claude", "agent: claude-code");
    const project = await openProject(repo);
    const s = await runSession(project, {
      routine: loadRoutine(repo, "claude"),
      hostEnv: { PATH: process.env.PATH },
    });
    expect(s, `${s.reason}`).toMatchObject({
      state: "failed",
      infra_outcome: "missing_credentials",
      workspace_path: null,
    });
    expect(s.reason).toMatch(/ANTHROPIC_API_KEY.*CLAUDE_CODE_OAUTH_TOKEN.*ANTHROPIC_BASE_URL/);
    expect(await kinds(project, s.id)).not.toContain("agent_spawned");
    await project.close();
  });

  it("keeps the transcript up to a crash and marks the session failed", async () => {
    const { project } = await projectWith(
      `echo 'step one'; echo '{"type":"tool_call","id":"t1","name":"Bash","input":{"command":"make"}}'; echo half > src/app.txt; kill -9 $$`,
    );
    const s = await runSession(project, { routine: loadRoutine(project.root, "task") });
    expect(s, `${s.reason}`).toMatchObject({
      state: "failed",
      infra_outcome: "ok",
      task_outcome: "agent_error",
    });
    const events = (await readEvents<TranscriptEvent>(project.store.db, s.id)).map((e) => e.data);
    expect(events).toContainEqual({ type: "assistant", text: "step one" });
    expect(events).toContainEqual({ type: "tool_call", id: "t1", name: "Bash", input: { command: "make" } });
    // Killed by SIGKILL: reported as the signal, or as 137 by the sandbox's wrapping shell.
    const exited = events.find((e) => e.type === "agent_exited") as {
      exitCode: number | null;
      signal: string | null;
    };
    expect(exited.signal === "SIGKILL" || exited.exitCode === 137).toBe(true);
    // A failed agent's half-done work is not delivered.
    expect(await branches(localForgeOf(project).barePath(project.repoName))).toEqual(["main"]);
    await project.close();
  });

  it("stops the agent and its children at the timeout (injected clock) and records timed_out", async () => {
    const clock = new ManualClock();
    const { project } = await projectWith(
      "sleep 3001 & sh -c 'sleep 3002 & wait' & sleep 0.2; echo started; wait",
      "",
      clock,
    );
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const running = runSession(project, {
      routine: loadRoutine(project.root, "task"),
      onEvent: (ev) => {
        if (ev.type === "assistant" && ev.text === "started") started();
      },
    });
    await ready;
    // The agent's child and grandchild, found on the host by their command lines (inside the
    // sandbox they have other pids).
    const pids = ["sleep 3001", "sleep 3002"].map((cmd) => processesRunning(cmd));
    expect(pids.every((p) => p.length === 1)).toBe(true);
    clock.advance(10 * 60_000 + 1);
    clock.advance(5_000); // the SIGKILL grace, should anything ignore SIGTERM
    const s = await running;
    expect(s, `${s.reason}`).toMatchObject({ state: "timed_out", infra_outcome: "timeout" });
    expect(s.reason).toContain("timeout (10m 00s)");
    // Killed with the session: the kernel ends the sandbox's PID namespace as its init dies,
    // which on a loaded machine can take a moment after the session's end is recorded.
    await until(
      "the agent's processes to end",
      async () => (pids.flat().some(alive) ? undefined : true),
      5_000,
    );
    await project.close();
  });

  it("puts the issue's title and body in the prompt and references the issue in the PR without closing it", async () => {
    const { project } = await projectWith('cat "$NIGHTSHIFT_PROMPT_FILE" > prompt-seen.md');
    const issue = await project.forge.createIssue(project.repoName, {
      title: "Parser drops the last line",
      body: "Steps: run it on a file without a trailing newline.",
      author: "octocat",
    });
    const s = await runSession(project, {
      routine: loadRoutine(project.root, "task"),
      issue,
      text: "from the alert: line 42",
    });
    expect(s.task_outcome).toBe("pr_opened");
    const diff = await project.forge.pullRequestDiff(project.repoName, s.pr_number!);
    expect(diff).toContain("+## Issue #1: Parser drops the last line");
    expect(diff).toContain("+Steps: run it on a file without a trailing newline.");
    expect(diff).toContain("+from the alert: line 42");
    const pr = await project.forge.getPullRequest(project.repoName, s.pr_number!);
    expect(pr.title).toBe("Parser drops the last line");
    expect(pr.body).toContain("Refs #1");
    expect(pr.body).not.toMatch(/\b(fixes|closes|resolves) #1/i);
    await project.close();
  });

  it("starts each session from the source's latest commit, reusing one mirror", async () => {
    const { project, repo } = await projectWith("echo hi");
    const routine = loadRoutine(repo, "task");
    const first = await runSession(project, { routine });
    writeFileSync(join(repo, "CHANGELOG.md"), "new\n");
    await gitOut(repo, "add", "CHANGELOG.md");
    await gitOut(repo, "commit", "-qm", "user commit");
    const second = await runSession(project, { routine });
    expect(first.base_sha).not.toBe(second.base_sha);
    expect(second.base_sha).toBe(await gitOut(repo, "rev-parse", "HEAD"));
    const mirrors = join(project.stateDir, "mirrors");
    expect(await gitOut(join(mirrors, `${project.repoName}.git`), "rev-parse", "refs/heads/main")).toBe(
      second.base_sha,
    );
    expect(existsSync(join(second.workspace_path!, "workspace", project.repoName, "CHANGELOG.md"))).toBe(
      true,
    );
    // The workspace borrows objects from the mirror instead of copying them.
    const alternates = readFileSync(
      join(second.workspace_path!, "workspace", project.repoName, ".git/objects/info/alternates"),
      "utf8",
    );
    expect(alternates).toContain(mirrors);
    await project.close();
  });

  it("removes workspaces of finished sessions after the retention, keeping their records", async () => {
    const clock = new ManualClock();
    const { project, repo } = await projectWith("echo hi", "", clock);
    const routine = loadRoutine(repo, "task");
    const first = await runSession(project, { routine });
    expect(existsSync(first.workspace_path!)).toBe(true);
    clock.advance(7 * 86_400_000 + 1);
    await runSession(project, { routine });
    expect(existsSync(first.workspace_path!)).toBe(false);
    expect((await findSession(project.store.db, first.id))?.workspace_removed_at).toBe(clock.now());
    await project.close();
  });

  it("marks a session whose runner process died as failed when the project is opened again", async () => {
    const { project, repo } = await projectWith("echo hi");
    await insertSession(project.store.db, {
      id: "deadrunner",
      routine: "task",
      agent: "command",
      model: null,
      trigger: "manual",
      issueNumber: null,
      inputText: null,
      createdAt: 1,
    });
    const { hostname } = await import("node:os");
    await updateSession(project.store.db, "deadrunner", {
      state: "running",
      runner_host: hostname(),
      runner_pid: 2 ** 22 + 12345,
    });
    await project.close();
    const reopened = await openProject(repo);
    const s = await findSession(reopened.store.db, "deadrunner");
    expect(s).toMatchObject({ state: "failed", infra_outcome: "internal_error" });
    expect(s?.reason).toContain("stopped before the session finished");
    await reopened.close();
  });
});
