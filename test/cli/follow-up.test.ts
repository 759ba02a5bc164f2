import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { type ModelServer, isAnthropicSideRequest, startModelServer } from "../support/model-server.ts";
import { cleanupTemp, gitOut, makeRepo, runCli, writeRoutine } from "../support/project.ts";

/**
 * Follow-ups through the real CLI (`nightshift reply`, foreground: no daemon), with the
 * `command` agent, the real Claude Code CLI and the real Codex CLI against the scripted model
 * server: the follow-up is a new session linked to its parent, resumes the agent's own
 * conversation (the model receives the earlier turns), works in the same workspace, and adds
 * one commit to the same branch and the same PR.
 */

afterAll(cleanupTemp);

type Session = {
  id: string;
  state: string;
  task_outcome: string | null;
  parent_session_id: string | null;
  pr_number: number | null;
  branch: string | null;
  workspace_path: string | null;
  agent_session_id: string | null;
  reason: string | null;
  routine?: string;
};

async function json<T>(repo: string, env: Record<string, string>, ...args: string[]): Promise<T> {
  const r = await runCli(repo, [...args, "--json"], env);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** Commits on the PR's branch in the forge's bare repository, past `main`. */
async function prCommits(repo: string, branch: string): Promise<string[]> {
  const project = await openProject(repo);
  try {
    const bare = project.forge.local!.barePath(project.repoName);
    const out = await gitOut(bare, "log", "--format=%s", `main..${branch}`);
    return out ? out.split("\n") : [];
  } finally {
    await project.close();
  }
}

async function prCount(repo: string, env: Record<string, string>): Promise<number> {
  return (await json<unknown[]>(repo, env, "pr", "list", "--state", "all")).length;
}

/** Runs the routine, replies, and checks the follow-up landed on the same branch and PR. */
async function runAndReply(repo: string, env: Record<string, string>, reply: string) {
  const first = await json<Session>(repo, env, "run", "job");
  expect(first, first.reason ?? "").toMatchObject({ state: "succeeded", task_outcome: "pr_opened" });
  expect(await prCommits(repo, first.branch!)).toHaveLength(1);
  const r = await runCli(repo, ["reply", first.id, reply, "--json"], env);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  const follow = JSON.parse(r.stdout) as Session;
  expect(follow, follow.reason ?? "").toMatchObject({
    state: "succeeded",
    task_outcome: "pr_updated",
    parent_session_id: first.id,
    pr_number: first.pr_number,
    branch: first.branch,
    workspace_path: first.workspace_path,
  });
  expect(await prCount(repo, env)).toBe(1);
  const commits = await prCommits(repo, first.branch!);
  expect(commits).toHaveLength(2);
  expect(commits[0]).toMatch(/^Follow-up: /);
  const pr = await json<{ comments?: { body: string }[] }>(repo, env, "pr", "show", String(first.pr_number));
  expect(JSON.stringify(pr)).toContain(`Follow-up session`);
  return { first, follow };
}

describe("nightshift reply (foreground)", () => {
  it("continues a command agent's session in the same workspace, branch and PR", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(
      repo,
      "job",
      [
        "agent: command",
        `command: 'cat "$NIGHTSHIFT_PROMPT_FILE" > "turn-$(ls turn-* 2>/dev/null | wc -l).txt"; echo "parent=\${NIGHTSHIFT_PARENT_SESSION_ID:-none}" >> parents.txt'`,
      ].join("\n"),
      "Write the first turn.",
    );
    const { first, follow } = await runAndReply(repo, {}, "Now the second turn.");
    const project = await openProject(repo);
    try {
      const bare = project.forge.local!.barePath(project.repoName);
      expect(await gitOut(bare, "show", `${first.branch}:turn-1.txt`)).toBe("Now the second turn.");
      expect(await gitOut(bare, "show", `${first.branch}:turn-0.txt`)).toContain("Write the first turn.");
      expect(await gitOut(bare, "show", `${first.branch}:parents.txt`)).toBe(
        `parent=none\nparent=${first.id}`,
      );
    } finally {
      await project.close();
    }
    // A reply to the parent continues the newest session of the conversation.
    const again = await runCli(repo, ["reply", first.id, "A third turn.", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      parent_session_id: follow.id,
      task_outcome: "pr_updated",
    });
    expect(await prCommits(repo, first.branch!)).toHaveLength(3);
    // The PR's body now tells the whole conversation: the first session's report, then each
    // follow-up's instructions with its session id and outcome, and the totals.
    const third = JSON.parse(again.stdout) as Session;
    const { body } = await json<{ body: string }>(repo, {}, "pr", "show", String(first.pr_number));
    expect(body).toContain(`Draft opened by the nightshift routine \`job\` (session \`${first.id}\`)`);
    expect(body).toContain("## Conversation");
    expect(body).toContain(`**Follow-up** \`${follow.id}\`: pr updated`);
    expect(body).toContain("> Now the second turn.");
    expect(body).toContain(`**Follow-up** \`${third.id}\`: pr updated`);
    expect(body).toContain("> A third turn.");
    expect(body).toMatch(/\*\*Total\*\* over 3 sessions: tokens input/);
    expect(body.match(/## Conversation/g)).toHaveLength(1);
  }, 120_000);

  it("says a session past workspaces.resume_window can no longer be resumed, and --fresh carries a summary", async () => {
    const repo = await makeRepo({
      "README.md": "# demo\n",
      ".nightshift/config.yaml": "workspaces:\n  resume_window: 0\n",
    });
    writeRoutine(
      repo,
      "job",
      `agent: command\ncommand: 'cat "$NIGHTSHIFT_PROMPT_FILE" > prompt.txt; echo "I changed prompt.txt (marker LAST-WORDS)"'`,
      "The first task (marker FIRST-TASK).",
    );
    const first = await json<Session>(repo, {}, "run", "job");
    expect(first.state).toBe("succeeded");
    const refused = await runCli(repo, ["reply", first.id, "More please."]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("can no longer be resumed");
    expect(refused.stderr).toContain("workspaces.resume_window");
    expect(refused.stderr).toContain(`nightshift reply ${first.id} --fresh`);

    const fresh = await runCli(repo, [
      "reply",
      first.id,
      "--fresh",
      "More please (marker NEW-TEXT).",
      "--json",
    ]);
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    const s = JSON.parse(fresh.stdout) as Session & { trigger: string };
    expect(s).toMatchObject({
      state: "succeeded",
      task_outcome: "pr_opened",
      parent_session_id: null,
      trigger: "dispatch",
    });
    expect(s.branch).not.toBe(first.branch);
    const project = await openProject(repo);
    try {
      const bare = project.forge.local!.barePath(project.repoName);
      const prompt = await gitOut(bare, "show", `${s.branch}:prompt.txt`);
      expect(prompt).toContain(first.id);
      expect(prompt).toContain("FIRST-TASK");
      expect(prompt).toContain("LAST-WORDS");
      expect(prompt).toContain("NEW-TEXT");
    } finally {
      await project.close();
    }
  }, 120_000);

  it("dispatches an ad-hoc session in the foreground with a routine's settings", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(
      repo,
      "job",
      `agent: command\ncommand: 'cat "$NIGHTSHIFT_PROMPT_FILE" > prompt.txt'`,
      "The routine's own task.",
    );
    const r = await runCli(repo, [
      "dispatch",
      "--routine",
      "job",
      "Fix the README (marker DISPATCHED)",
      "--json",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Session & { trigger: string; title: string };
    expect(s).toMatchObject({
      state: "succeeded",
      task_outcome: "pr_opened",
      trigger: "dispatch",
      title: "Fix the README (marker DISPATCHED)",
      routine: "job",
    });
    const project = await openProject(repo);
    try {
      const bare = project.forge.local!.barePath(project.repoName);
      const prompt = await gitOut(bare, "show", `${s.branch}:prompt.txt`);
      expect(prompt).toContain("DISPATCHED");
      expect(prompt).not.toContain("The routine's own task.");
    } finally {
      await project.close();
    }
    const bad = await runCli(repo, ["dispatch", "--agent", "command", "x"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('agent "command" needs a command');
  }, 120_000);

  describe("with the real Claude Code CLI", () => {
    let server: ModelServer;
    afterAll(async () => server?.close());

    it("resumes the conversation: the model receives the earlier turns", async () => {
      server = await startModelServer({
        anthropic: [
          { tool: "Write", input: { file_path: "{{cwd}}/first.txt", content: "one\n" } },
          { text: "Wrote first.txt (marker PARENT-TURN-DONE)." },
          { tool: "Write", input: { file_path: "{{cwd}}/second.txt", content: "two\n" } },
          { text: "Wrote second.txt." },
        ],
      });
      const env = { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: "test-key-not-secret" };
      const repo = await makeRepo({ "README.md": "# demo\n" });
      writeRoutine(
        repo,
        "job",
        "agent: claude-code\nmax_turns: 6\ntimeout: 3m",
        "Write first.txt (task FIRST-TASK).",
      );
      const { first, follow } = await runAndReply(repo, env, "Now write second.txt (task SECOND-TASK).");
      expect(server.remaining("anthropic")).toBe(0);
      const main = server.requests.filter(
        (r) => r.api === "anthropic" && !isAnthropicSideRequest(r.path, r.body, r.raw),
      );
      const last = JSON.stringify(main.at(-1)!.body.messages);
      // Resume, not a fresh conversation: the first task, its tool call and the agent's answer are sent again.
      expect(last).toContain("FIRST-TASK");
      expect(last).toContain("PARENT-TURN-DONE");
      expect(last).toContain("SECOND-TASK");
      expect(first.agent_session_id).toBeTruthy();
      expect(follow.agent_session_id).toBeTruthy();
    }, 180_000);
  });

  describe("with the real Codex CLI", () => {
    let server: ModelServer;
    afterAll(async () => server?.close());

    it("resumes the thread with exec resume: the model receives the earlier turns", async () => {
      server = await startModelServer({
        openai: [
          { tool: "exec_command", input: { cmd: "echo one > first.txt" } },
          { text: "Wrote first.txt (marker PARENT-TURN-DONE)." },
          { tool: "exec_command", input: { cmd: "echo two > second.txt" } },
          { text: "Wrote second.txt." },
        ],
      });
      const env = { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: "test-key-not-secret" };
      const repo = await makeRepo({ "README.md": "# demo\n" });
      writeRoutine(
        repo,
        "job",
        "agent: codex\nmodel: test-model\ntimeout: 3m",
        "Write first.txt (task FIRST-TASK).",
      );
      const { first, follow } = await runAndReply(repo, env, "Now write second.txt (task SECOND-TASK).");
      expect(server.remaining("openai")).toBe(0);
      const main = server.requests.filter((r) => r.api === "openai" && r.path.startsWith("/v1/responses"));
      const last = JSON.stringify(main.at(-1)!.body.input);
      expect(last).toContain("FIRST-TASK");
      expect(last).toContain("PARENT-TURN-DONE");
      expect(last).toContain("SECOND-TASK");
      expect(follow.agent_session_id).toBe(first.agent_session_id);
    }, 180_000);
  });
});
