/**
 * Needs input: an agent asks the person a question and stops. The real Claude Code CLI,
 * driven by the scripted model server, calls AskUserQuestion; nightshift's PreToolUse hook
 * defers it; the session ends `needs_input` with the question stored and no process left.
 * `nightshift reply` (the real CLI, foreground) checks the answer against the choices and
 * resumes the conversation: the deferred call gets the answer as its tool result. The real
 * Codex CLI calls nightshift's `ask_user` MCP server (offered as the Responses-API namespace
 * `mcp__nightshift_ask`); its answer arrives as the next message of `codex exec resume`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { ASK_HOOK_SCRIPT, askAnswersDir, writeToolAnswer } from "../../src/runner/mcp/ask-user.ts";
import { AnswerError, answerMessage, checkAnswer } from "../../src/runner/questions.ts";
import { runSession } from "../../src/runner/session.ts";
import type { SessionRow } from "../../src/store/schema.ts";
import { openSessionQuestion, sessionQuestions } from "../../src/store/session-questions.ts";
import { findSession, followUpsOf, listSessions } from "../../src/store/sessions.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { isAnthropicSideRequest, startModelServer } from "../support/model-server.ts";
import { alive } from "../support/processes.ts";
import { cleanupTemp, gitOut, makeRepo, runCli, tempDir, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const QUESTIONS = {
  questions: [
    {
      question: "Which colour should the button be?",
      header: "Colour",
      options: [
        { label: "red", description: "warm" },
        { label: "blue", description: "cool" },
      ],
      multiSelect: false,
    },
  ],
};

function hook(input: unknown, dir: string): string {
  const r = spawnSync(process.execPath, [ASK_HOOK_SCRIPT, dir], {
    input: JSON.stringify(input),
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  return r.stdout;
}

describe("the AskUserQuestion hook", () => {
  it("defers an unanswered call, answers it once the runner wrote the answer, and ignores other tools", () => {
    const home = tempDir();
    const call = { tool_name: "AskUserQuestion", tool_use_id: "toolu_abc", tool_input: QUESTIONS };
    expect(JSON.parse(hook(call, askAnswersDir(home)))).toEqual({
      hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "defer" },
    });
    writeToolAnswer(home, "toolu_abc", { "Which colour should the button be?": "blue" });
    const out = JSON.parse(hook(call, askAnswersDir(home))).hookSpecificOutput;
    expect(out.permissionDecision).toBe("allow");
    expect(out.updatedInput).toEqual({
      ...QUESTIONS,
      answers: { "Which colour should the button be?": "blue" },
    });
    // Another call of the same tool (a second question) is deferred again; other tools pass.
    expect(hook({ ...call, tool_use_id: "toolu_other" }, askAnswersDir(home))).toContain('"defer"');
    expect(hook({ ...call, tool_use_id: "../../etc/passwd" }, askAnswersDir(home))).toContain('"defer"');
    expect(hook({ tool_name: "Bash", tool_use_id: "x", tool_input: {} }, askAnswersDir(home))).toBe("");
  });
});

describe("needs input with the real Claude Code CLI", () => {
  it("a deferred AskUserQuestion ends the session needs_input with the question stored and no process left", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "job", ["agent: claude-code", "timeout: 2m", "allowed_tools: [Bash]"].join("\n"));
    const project = await openProject(repo);
    const model = await startModelServer({ anthropic: [{ tool: "AskUserQuestion", input: QUESTIONS }] });
    try {
      const s = await runSession(project, {
        routine: loadRoutine(project.root, "job"),
        hostEnv: {
          PATH: process.env.PATH,
          ANTHROPIC_BASE_URL: model.url,
          ANTHROPIC_API_KEY: "sk-ant-test-dummy",
        },
      });
      expect(s.state).toBe("needs_input");
      expect(s.infra_outcome).toBe("ok");
      expect(s.agent_pid).toBeNull();
      // The model was offered the tool, and called it once; nothing answered it.
      expect(
        model.requests.some((r) =>
          (r.body?.tools ?? []).some((t: { name: string }) => t.name === "AskUserQuestion"),
        ),
      ).toBe(true);
      const q = await openSessionQuestion(project.store.db, s.id);
      expect(q?.questions).toEqual(QUESTIONS.questions);
      expect(q?.toolUseId).toMatch(/^toolu_/);
      const events = await readEvents<{ type: string; pid?: number }>(project.store.db, s.id);
      expect(events.some((e) => e.data.type === "question")).toBe(true);
      const pid = events.find((e) => e.data.type === "agent_spawned")!.data.pid!;
      expect(alive(pid)).toBe(false);
      // Its workspace and HOME (the CLI's conversation) are kept for the answer.
      expect(existsSync(join(s.workspace_path!, "home", ".claude"))).toBe(true);

      // Answers are checked against the stored choices.
      expect(checkAnswer(q!, "Blue")).toEqual({ "Which colour should the button be?": "blue" });
      expect(checkAnswer(q!, "1")).toEqual({ "Which colour should the button be?": "red" });
      expect(() => checkAnswer(q!, "green")).toThrow(AnswerError);
      expect(() => checkAnswer(q!, "green")).toThrow(/not a choice.*1\. "red", 2\. "blue"/);
      expect((await sessionQuestions(project.store.db, s.id)).length).toBe(1);
    } finally {
      await model.close();
    }
  }, 90_000);

  it("`nightshift reply` refuses a wrong answer, then resumes the conversation with the answer as the tool result, and delivers a draft PR", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(
      repo,
      "job",
      ["agent: claude-code", "timeout: 2m", "allowed_tools: [Bash]"].join("\n"),
      "Paint the button (marker FIRST-PROMPT).",
    );
    const model = await startModelServer({
      anthropic: [
        { tool: "AskUserQuestion", input: QUESTIONS },
        { tool: "Bash", input: { command: "echo blue > colour.txt", description: "write the colour" } },
        { text: "The button is blue now." },
      ],
    });
    const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "sk-ant-test-dummy" };
    const mainRequests = () =>
      model.requests.filter((r) => r.api === "anthropic" && !isAnthropicSideRequest(r.path, r.body, r.raw));
    try {
      const run = await runCli(repo, ["run", "job", "--json"], env);
      const asking = JSON.parse(run.stdout) as SessionRow;
      expect(asking.state, run.stderr).toBe("needs_input");
      expect(mainRequests()).toHaveLength(1);

      const store = async <T>(fn: (db: Project["store"]["db"]) => Promise<T>): Promise<T> => {
        const project = await openProject(repo);
        try {
          return await fn(project.store.db);
        } finally {
          await project.close();
        }
      };
      const question = (await store((db) => openSessionQuestion(db, asking.id)))!;
      expect(question.toolUseId).toMatch(/^toolu_/);

      // A wrong answer is refused with the choices, and changes nothing.
      const wrong = await runCli(repo, ["reply", asking.id, "green"], env);
      expect(wrong.exitCode).toBe(2);
      expect(wrong.stderr).toMatch(/"green" is not a choice of "Which colour should the button be\?"/);
      expect(wrong.stderr).toContain('1. "red", 2. "blue"');
      expect(mainRequests()).toHaveLength(1);
      await store(async (db) => {
        expect(await openSessionQuestion(db, asking.id)).toEqual(question);
        expect((await findSession(db, asking.id))?.state).toBe("needs_input");
        expect(await followUpsOf(db, asking.id)).toEqual([]);
        expect(await listSessions(db)).toHaveLength(1);
      });
      expect(existsSync(askAnswersDir(join(asking.workspace_path!, "home")))).toBe(false);

      // The right answer resumes the same conversation in the foreground.
      const ok = await runCli(repo, ["reply", asking.id, "blue"], env);
      expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`resumes ${asking.id} with the answer`);
      expect(model.remaining("anthropic")).toBe(0);

      // The model got the answer as the tool result of its own call, in the same conversation.
      const resumed = mainRequests()[1]!;
      const messages = (resumed.body.messages as { role: string; content: unknown }[]).filter(
        (m) => m.role !== "system",
      );
      const results = messages.flatMap((m) =>
        Array.isArray(m.content)
          ? (m.content as { type: string; tool_use_id?: string; content?: unknown }[]).filter(
              (b) => b.type === "tool_result",
            )
          : [],
      );
      const answerResult = results.find((b) => b.tool_use_id === question.toolUseId);
      expect(answerResult, JSON.stringify(messages)).toBeDefined();
      const resultText =
        typeof answerResult!.content === "string"
          ? answerResult!.content
          : (answerResult!.content as { text?: string }[]).map((b) => b.text ?? "").join("");
      expect(resultText).toContain(
        'Your questions have been answered: "Which colour should the button be?"="blue"',
      );
      expect(JSON.stringify(messages)).toContain("FIRST-PROMPT");
      expect(
        messages.some(
          (m) =>
            m.role === "assistant" &&
            JSON.stringify(m.content).includes(`"id":"${question.toolUseId}"`) &&
            JSON.stringify(m.content).includes("AskUserQuestion"),
        ),
      ).toBe(true);

      // The follow-up ran the next turn, succeeded and delivered the work as a draft PR.
      const [follow, ...more] = await store((db) => followUpsOf(db, asking.id));
      expect(more).toEqual([]);
      expect(follow, follow?.reason ?? "").toMatchObject({
        parent_session_id: asking.id,
        state: "succeeded",
        task_outcome: "pr_opened",
        workspace_path: asking.workspace_path,
      });
      // The asking session no longer waits: the agent view moves it out of "needs input".
      const askedThen = await store((db) => findSession(db, asking.id));
      expect(askedThen?.state).toBe("succeeded");
      expect(askedThen?.reason).toContain(`continued in session ${follow!.id}`);
      const prs = JSON.parse((await runCli(repo, ["pr", "list", "--json"], env)).stdout) as {
        number: number;
        draft: boolean;
        head: string;
      }[];
      expect(prs).toHaveLength(1);
      expect(prs[0]).toMatchObject({ number: follow!.pr_number, draft: true, head: follow!.branch });
      const project = await openProject(repo);
      const bare = project.forge.local!.barePath(project.repoName);
      await project.close();
      expect(await gitOut(bare, "show", `${follow!.branch}:colour.txt`)).toBe("blue");

      // The question is stored as answered, by the CLI.
      const [answered, ...others] = await store((db) => sessionQuestions(db, asking.id));
      expect(others).toEqual([]);
      expect(answered).toMatchObject({
        id: question.id,
        answer: { "Which colour should the button be?": "blue" },
        answeredBy: "cli",
      });
      expect(answered!.answeredAt).toEqual(expect.any(Number));
      expect(await store((db) => openSessionQuestion(db, asking.id))).toBeUndefined();
    } finally {
      await model.close();
    }
  }, 180_000);
});

describe("needs input with the real Codex CLI", () => {
  it("ask_user (a tool of the MCP namespace) records the question; the session ends needs_input; `reply` resumes the thread with the answer", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(
      repo,
      "job",
      ["agent: codex", "timeout: 2m", "model: test-model"].join("\n"),
      "Paint the button (marker FIRST-PROMPT).",
    );
    const model = await startModelServer({
      openai: [
        // Codex 0.169 offers an MCP server's tools as one namespace, `mcp__<server>`.
        { tool: "ask_user", namespace: "mcp__nightshift_ask", input: QUESTIONS },
        { text: "Waiting for your answer." },
        { tool: "exec_command", input: { cmd: "echo blue > colour.txt" } },
        { text: "The button is blue now." },
      ],
    });
    const env = { OPENAI_BASE_URL: `${model.url}/v1`, OPENAI_API_KEY: "sk-test-dummy" };
    const project = await openProject(repo);
    let asking: SessionRow;
    try {
      asking = await runSession(project, {
        routine: loadRoutine(project.root, "job"),
        hostEnv: { PATH: process.env.PATH, ...env },
      });
      expect(asking.state, asking.reason ?? "").toBe("needs_input");
      expect(asking.infra_outcome).toBe("ok");
      // Offered as a namespace holding ask_user, and the call reached nightshift's server.
      expect(
        model.requests[0]!.body.tools.find(
          (t: { type: string; name?: string }) => t.type === "namespace" && t.name === "mcp__nightshift_ask",
        )?.tools.map((t: { name: string }) => t.name),
      ).toEqual(["ask_user"]);
      expect(JSON.stringify(model.requests[1]!.body.input)).toContain("Your question was sent to the person");
      const q = await openSessionQuestion(project.store.db, asking.id);
      expect(q?.questions).toEqual(QUESTIONS.questions);
      expect(q?.toolUseId).toBeNull();
      const events = await readEvents<{ type: string; id?: string; questions?: unknown }>(
        project.store.db,
        asking.id,
      );
      expect(events.filter((e) => e.data.type === "question").map((e) => e.data)).toEqual([
        { type: "question", id: q!.id, questions: QUESTIONS.questions },
      ]);
      // The ask_user server's file was taken (stored), not left for a later turn.
      expect(existsSync(join(asking.workspace_path!, "tmp", "ask-user-question.json"))).toBe(false);
    } finally {
      await project.close();
    }
    try {
      const before = model.requests.length;
      const ok = await runCli(repo, ["reply", asking.id, "2"], env);
      expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
      expect(model.remaining("openai")).toBe(0);
      // `codex exec resume`: the thread goes on (the first prompt and the ask_user call are
      // sent again) and the new user message carries the answer.
      const resumed = model.requests[before]!;
      const input = JSON.stringify(resumed.body.input);
      expect(input).toContain("FIRST-PROMPT");
      expect(input).toContain('"namespace":"mcp__nightshift_ask"');
      expect(input).toContain("Waiting for your answer.");
      expect(input).toContain(
        JSON.stringify(answerMessage({ "Which colour should the button be?": "blue" })).slice(1, -1),
      );
      const reopened = await openProject(repo);
      try {
        const [follow, ...more] = await followUpsOf(reopened.store.db, asking.id);
        expect(more).toEqual([]);
        expect(follow, follow?.reason ?? "").toMatchObject({
          parent_session_id: asking.id,
          state: "succeeded",
          task_outcome: "pr_opened",
          agent_session_id: asking.agent_session_id,
        });
        const bare = reopened.forge.local!.barePath(reopened.repoName);
        expect(await gitOut(bare, "show", `${follow!.branch}:colour.txt`)).toBe("blue");
        const [answered] = await sessionQuestions(reopened.store.db, asking.id);
        expect(answered).toMatchObject({
          answer: { "Which colour should the button be?": "blue" },
          answeredBy: "cli",
        });
      } finally {
        await reopened.close();
      }
    } finally {
      await model.close();
    }
  }, 180_000);
});
