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
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertApiToken } from "../../src/store/api-tokens.ts";
import { runOfSession } from "../../src/store/runs.ts";
import { createApiToken } from "../../src/triggers/api-token.ts";
import {
  ASK_HOOK_SCRIPT,
  ASK_USER_SERVER_NAME,
  askAnswersDir,
  writeToolAnswer,
} from "../../src/runner/mcp/ask-user.ts";
import { NIGHTSHIFT_ROOT } from "../../src/runner/agents/env.ts";
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

      // The API answers it too: POST /v1/sessions/<id>/messages with the routine's token.
      const app = createApp({
        project,
        baseUrl: "http://127.0.0.1:7070",
        rateLimiter: new RateLimiter({ limit: 100, windowMs: 60_000, clock: project.clock }),
        env: {},
      });
      const t = createApiToken();
      const { id: tokenId } = await insertApiToken(project.store.db, {
        routine: "job",
        prefix: t.prefix,
        hash: t.hash,
        now: project.clock.now(),
      });
      const send = (text: string) =>
        app.request(`/v1/sessions/${s.id}/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
          body: JSON.stringify({ text }),
        });
      const wrong = await send("green");
      expect(wrong.status).toBe(400);
      expect(((await wrong.json()) as { message: string }).message).toMatch(/1\. "red", 2\. "blue"/);
      expect((await openSessionQuestion(project.store.db, s.id))?.answer).toBeNull();
      const ok = await send("blue");
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { type: string; outcome: string; session_id: string };
      expect(body).toMatchObject({ type: "answer", outcome: "queued" });
      const [answered] = await sessionQuestions(project.store.db, s.id);
      expect(answered).toMatchObject({
        answer: { "Which colour should the button be?": "blue" },
        answeredBy: `api:${tokenId}`,
      });
      // The asking session no longer waits; its follow-up is queued for a worker.
      expect((await findSession(project.store.db, s.id))?.state).toBe("succeeded");
      expect(await runOfSession(project.store.db, body.session_id)).toMatchObject({ state: "pending" });
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

/**
 * A `command` agent's script: a Node program that, as an MCP client, starts the `ask_user`
 * server from `$NIGHTSHIFT_MCP_CONFIG` and asks; on its follow-up it prints the prompt it got.
 */
function askingScript(): string {
  const sdk = join(NIGHTSHIFT_ROOT, "node_modules", "@modelcontextprotocol", "sdk", "dist", "esm", "client");
  return `import { readFileSync } from "node:fs";
import { Client } from ${JSON.stringify(join(sdk, "index.js"))};
import { StdioClientTransport } from ${JSON.stringify(join(sdk, "stdio.js"))};
if (process.env.NIGHTSHIFT_PARENT_SESSION_ID) {
  const prompt = readFileSync(process.env.NIGHTSHIFT_PROMPT_FILE, "utf8");
  console.log(JSON.stringify({ parent: process.env.NIGHTSHIFT_PARENT_SESSION_ID, prompt }));
  process.exit(0);
}
const { mcpServers } = JSON.parse(readFileSync(process.env.NIGHTSHIFT_MCP_CONFIG, "utf8"));
const server = mcpServers.${ASK_USER_SERVER_NAME};
const client = new Client({ name: "command-agent", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: server.env }));
const reply = await client.callTool({ name: "ask_user", arguments: ${JSON.stringify(QUESTIONS)} });
console.log(reply.content[0].text);
await client.close();
`;
}

describe("needs input with a command agent", () => {
  it("ask_user over $NIGHTSHIFT_MCP_CONFIG ends the session needs_input; `reply` runs the command again with the answer as its prompt", async () => {
    const repo = await makeRepo({ "README.md": "x\n", "ask.mjs": askingScript() });
    writeRoutine(repo, "job", ["agent: command", "command: node ask.mjs", "timeout: 2m"].join("\n"));
    const store = async <T>(fn: (db: Project["store"]["db"]) => Promise<T>): Promise<T> => {
      const project = await openProject(repo);
      try {
        return await fn(project.store.db);
      } finally {
        await project.close();
      }
    };

    const run = await runCli(repo, ["run", "job", "--json"]);
    const asking = JSON.parse(run.stdout) as SessionRow;
    expect(asking.state, `${asking.reason} ${run.stderr}`).toBe("needs_input");
    expect(asking.infra_outcome).toBe("ok");
    const q = (await store((db) => openSessionQuestion(db, asking.id)))!;
    expect(q.questions).toEqual(QUESTIONS.questions);
    expect(q.toolUseId).toBeNull();
    const events = await store((db) =>
      readEvents<{ type: string; id?: string; questions?: unknown; text?: string }>(db, asking.id),
    );
    expect(events.filter((e) => e.data.type === "question").map((e) => e.data)).toEqual([
      { type: "question", id: q.id, questions: QUESTIONS.questions },
    ]);
    // The server's reply reached the script (its stdout is the transcript).
    expect(
      events.some((e) => e.data.type === "assistant" && /sent to the person/.test(e.data.text ?? "")),
    ).toBe(true);
    expect(existsSync(join(asking.workspace_path!, "tmp", "ask-user-question.json"))).toBe(false);

    // Answer by number: the command runs again, as a follow-up, with the answer as its prompt.
    const ok = await runCli(repo, ["reply", asking.id, "2"]);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    const [follow, ...more] = await store((db) => followUpsOf(db, asking.id));
    expect(more).toEqual([]);
    expect(follow, follow?.reason ?? "").toMatchObject({
      parent_session_id: asking.id,
      state: "succeeded",
      workspace_path: asking.workspace_path,
    });
    const followEvents = await store((db) => readEvents<{ type: string; text?: string }>(db, follow!.id));
    const printed = followEvents
      .filter((e) => e.data.type === "assistant" && e.data.text?.startsWith("{"))
      .map((e) => JSON.parse(e.data.text!) as { parent: string; prompt: string });
    expect(printed).toHaveLength(1);
    expect(printed[0]!.parent).toBe(asking.id);
    expect(printed[0]!.prompt).toContain(answerMessage({ "Which colour should the button be?": "blue" }));
    const [answered] = await store((db) => sessionQuestions(db, asking.id));
    expect(answered).toMatchObject({
      answer: { "Which colour should the button be?": "blue" },
      answeredBy: "cli",
    });
  }, 120_000);
});
