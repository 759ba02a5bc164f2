/**
 * Proves the scripted model server drives the real Claude Code and Codex CLIs (installed in
 * node_modules) on 127.0.0.1. Set UPDATE_FIXTURES=1 to rewrite test/fixtures/claude-stream.jsonl
 * and test/fixtures/codex-exec.jsonl from these runs.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { claudeEnv, codexEnv, type ModelServer, startModelServer } from "./model-server.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLAUDE = join(ROOT, "node_modules/.bin/claude");
const CODEX = join(ROOT, "node_modules/.bin/codex");
const FIXTURES = join(ROOT, "test/fixtures");
const UPDATE_FIXTURES = process.env.UPDATE_FIXTURES === "1";

type Event = any;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `nightshift-${prefix}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(opts: Parameters<typeof startModelServer>[0]): Promise<ModelServer> {
  const s = await startModelServer(opts);
  cleanups.push(() => s.close());
  return s;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 55_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function events(stdout: string): Event[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line));
}

function saveFixture(name: string, stdout: string): void {
  if (!UPDATE_FIXTURES) return;
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(join(FIXTURES, name), stdout);
}

function claudeArgs(prompt: string): string[] {
  return [
    "-p",
    prompt,
    "--output-format",
    "stream-json",
    "--verbose",
    "--permission-mode",
    "bypassPermissions",
    "--tools",
    "Bash,Edit,Read,Write",
    "--max-turns",
    "8",
  ];
}

describe("scripted model server", () => {
  it("drives the real Claude Code CLI through Read, Edit and Bash", { timeout: 90_000 }, async () => {
    const ws = tempDir("claude-ws");
    const home = tempDir("claude-home");
    const notes = join(ws, "notes.txt");
    writeFileSync(notes, "hello world\n");
    const prompt = "Change 'world' to 'nightshift' in notes.txt, then create ran.txt.";
    const s = await server({
      anthropic: [
        { tool: "Read", input: { file_path: notes } },
        {
          text: "Now the edit.",
          tool: "Edit",
          input: { file_path: notes, old_string: "hello world", new_string: "hello nightshift" },
        },
        { tool: "Bash", input: { command: "echo hi > ran.txt", description: "Create ran.txt" } },
        { text: "Edited notes.txt and created ran.txt." },
      ],
      usage: { input_tokens: 1000, output_tokens: 50, cache_read_input_tokens: 200 },
    });

    const r = await run(CLAUDE, claudeArgs(prompt), ws, claudeEnv(s, home));
    saveFixture("claude-stream.jsonl", r.stdout);

    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(notes, "utf8")).toBe("hello nightshift\n");
    expect(readFileSync(join(ws, "ran.txt"), "utf8")).toBe("hi\n");

    const ev = events(r.stdout);
    expect(ev[0]).toMatchObject({ type: "system", subtype: "init", permissionMode: "bypassPermissions" });
    const result = ev.at(-1);
    expect(result.type).toBe("result");
    expect(result.is_error).toBe(false);
    expect(result.num_turns).toBe(4);
    expect(result.result).toBe("Edited notes.txt and created ran.txt.");
    expect(typeof result.total_cost_usd).toBe("number");
    expect(result.usage.input_tokens).toBe(4000);

    expect(s.remaining("anthropic")).toBe(0);
    const main = s.requests.filter((q) => q.api === "anthropic" && Array.isArray(q.body?.tools));
    expect(main).toHaveLength(4);
    expect(main[0]!.path.startsWith("/v1/messages")).toBe(true);
    expect(main[0]!.body.stream).toBe(true);
    expect(main[0]!.headers["x-api-key"]).toBe("sk-ant-test-dummy");
    expect(main[0]!.raw).toContain(prompt);
    // The tool results went back to the model.
    expect(main[3]!.raw).toContain("toolu_");
    expect(s.requests.some((q) => q.raw.includes(prompt))).toBe(true);
  });

  it("drives the real Codex CLI through exec_command and apply_patch", { timeout: 90_000 }, async () => {
    const ws = tempDir("codex-ws");
    const codexHome = tempDir("codex-home");
    const prompt = "Create out.txt saying hello and patched.txt saying patched.";
    const s = await server({
      openai: [
        { tool: "exec_command", input: { cmd: "echo hello > out.txt" } },
        {
          text: "Now the patch.",
          tool: "exec_command",
          input: {
            cmd: "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: patched.txt\n+patched\n*** End Patch\nEOF\n",
          },
        },
        { text: "Created out.txt and patched.txt." },
      ],
      usage: { input_tokens: 1000, output_tokens: 50, cache_read_input_tokens: 200 },
    });

    const r = await run(
      CODEX,
      [
        "exec",
        "--json",
        "--disable",
        "plugins",
        "--dangerously-bypass-approvals-and-sandbox",
        "--skip-git-repo-check",
        "-m",
        "test-model",
        prompt,
      ],
      ws,
      codexEnv(s, codexHome),
    );
    saveFixture("codex-exec.jsonl", r.stdout);

    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ws, "out.txt"), "utf8")).toBe("hello\n");
    expect(readFileSync(join(ws, "patched.txt"), "utf8")).toBe("patched\n");

    const ev = events(r.stdout);
    expect(ev[0]).toMatchObject({ type: "thread.started" });
    expect(ev.some((e) => e.type === "item.completed" && e.item.type === "command_execution")).toBe(true);
    expect(ev.some((e) => e.type === "item.completed" && e.item.type === "file_change")).toBe(true);
    expect(
      ev.some(
        (e) => e.type === "item.completed" && e.item.type === "agent_message" && /Created/.test(e.item.text),
      ),
    ).toBe(true);
    const done = ev.at(-1);
    expect(done.type).toBe("turn.completed");
    // Summed over the three model calls.
    expect(done.usage).toMatchObject({ input_tokens: 3000, cached_input_tokens: 600, output_tokens: 150 });

    expect(s.remaining("openai")).toBe(0);
    const reqs = s.requests.filter((q) => q.api === "openai");
    expect(reqs).toHaveLength(3);
    expect(reqs[0]!.path).toBe("/v1/responses");
    expect(reqs[0]!.body.model).toBe("test-model");
    expect(reqs[0]!.headers.authorization).toBe("Bearer sk-test-dummy");
    expect(reqs[0]!.body.tools.some((t: Event) => t.name === "exec_command")).toBe(true);
    expect(reqs[0]!.raw).toContain(prompt);
    const outputs = reqs[1]!.body.input.filter((i: Event) => i.type === "function_call_output");
    expect(outputs).toHaveLength(1);
  });

  it("turns an error step into a Claude Code result with is_error true", { timeout: 90_000 }, async () => {
    const ws = tempDir("claude-err-ws");
    const home = tempDir("claude-err-home");
    const s = await server({
      anthropic: [{ error: { status: 500, type: "api_error", message: "scripted internal error" } }],
    });

    const r = await run(CLAUDE, claudeArgs("Say hi."), ws, {
      ...claudeEnv(s, home),
      CLAUDE_CODE_MAX_RETRIES: "0",
    });

    expect(r.code).not.toBe(0);
    const result = events(r.stdout).at(-1);
    expect(result.type).toBe("result");
    expect(result.is_error).toBe(true);
    expect(s.remaining("anthropic")).toBe(0);
    expect(s.requests.filter((q) => q.api === "anthropic")).toHaveLength(1);
  });

  it("answers with Done. once the script is exhausted, and records side requests without consuming steps", async () => {
    const s = await server({ anthropic: [{ text: "first" }] });
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${s.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Event };
    };
    const tools = [{ name: "Bash", input_schema: { type: "object" } }];
    const messages = [{ role: "user", content: "hi" }];
    // A title-style side request: no tools, no environment block.
    const side = await post("/v1/messages?beta=true", { model: "claude-haiku", max_tokens: 32, messages });
    expect(side.body.content[0].text).toBe("OK");
    expect(s.remaining("anthropic")).toBe(1);
    const count = await post("/v1/messages/count_tokens?beta=true", { model: "m", messages });
    expect(count.body.input_tokens).toBeTypeOf("number");
    const first = await post("/v1/messages", { model: "m", max_tokens: 99, messages, tools });
    expect(first.body).toMatchObject({ content: [{ type: "text", text: "first" }], stop_reason: "end_turn" });
    const after = await post("/v1/messages", { model: "m", max_tokens: 99, messages, tools });
    expect(after.body.content[0].text).toBe("Done.");
    expect(s.requests.map((q) => q.path)).toEqual([
      "/v1/messages?beta=true",
      "/v1/messages/count_tokens?beta=true",
      "/v1/messages",
      "/v1/messages",
    ]);
    const openai = await post("/v1/responses", { model: "m", input: "hi" });
    expect(openai.body.output[0].content[0].text).toBe("Done.");
    expect(openai.body.usage).toMatchObject({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 0 },
    });
  });
});
