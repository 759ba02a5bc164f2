import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../test/support/project.ts";
import type { AgentEvent } from "../transcript/events.ts";
import { UsageMeter } from "../transcript/usage.ts";
import { ClaudeStreamParser } from "./claude-code.ts";
import { CodexJsonParser, unwrapShell } from "./codex.ts";
import { commandAdapter } from "./command.ts";
import type { OutputParser } from "./types.ts";

/** Output recorded from the real CLIs against the scripted model server (test/support). */
function parseFixture(name: string, parser: OutputParser, exitCode = 0): AgentEvent[] {
  const lines = readFileSync(join(ROOT, "test", "fixtures", name), "utf8")
    .split("\n")
    .filter(Boolean);
  return [...lines.flatMap((l) => parser.line(l)), ...parser.end(exitCode)];
}

describe("Claude Code stream-json", () => {
  const events = parseFixture("claude-stream.jsonl", new ClaudeStreamParser());

  it("turns tool calls and results into one event each, in order", () => {
    const tools = events.filter((e) => e.type === "tool_call").map((e) => (e as { name: string }).name);
    expect(tools).toEqual(["Read", "Edit", "Bash"]);
    const results = events.filter((e) => e.type === "tool_result");
    expect(results).toHaveLength(3);
    expect(results.every((r) => r.type === "tool_result" && !r.isError)).toBe(true);
  });

  it("counts usage once per model message although blocks of a message repeat it", () => {
    const usage = events.filter((e) => e.type === "usage");
    const ids = new Set(
      readFileSync(join(ROOT, "test", "fixtures", "claude-stream.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((m) => m.type === "assistant")
        .map((m) => m.message.id),
    );
    expect(usage).toHaveLength(ids.size);
  });

  it("reads the final result: success, turns, cost and token totals", () => {
    const result = events.find((e) => e.type === "result");
    expect(result).toMatchObject({ type: "result", isError: false, numTurns: 4 });
    expect(result?.type === "result" && result.costUsd).toBeGreaterThan(0);
    const meter = new UsageMeter();
    for (const e of events) meter.add(e);
    expect(meter.totals.inputTokens).toBe(4000);
    expect(meter.totals.cacheReadTokens).toBe(800);
    expect(meter.peakContextTokens).toBeGreaterThan(0);
  });

  it("judges failure by is_error even when subtype says success", () => {
    const p = new ClaudeStreamParser();
    const [ev] = p.line(
      JSON.stringify({
        type: "result",
        subtype: "success",
        is_error: true,
        result: "API Error: 500",
        num_turns: 1,
      }),
    );
    expect(ev).toMatchObject({ type: "result", isError: true, text: "API Error: 500" });
  });

  it("reports a crash without a result as an error", () => {
    const p = new ClaudeStreamParser();
    p.line(JSON.stringify({ type: "system", subtype: "init", session_id: "s" }));
    expect(p.end(137)).toEqual([
      expect.objectContaining({ type: "result", isError: true, subtype: "no_result" }),
    ]);
  });
});

describe("Codex exec --json", () => {
  const events = parseFixture("codex-exec.jsonl", new CodexJsonParser());

  it("maps command executions and file changes to tool calls and results", () => {
    const calls = events.filter((e) => e.type === "tool_call");
    expect(calls.map((c) => c.type === "tool_call" && c.name)).toEqual(["exec_command", "apply_patch"]);
    expect(calls[0]).toMatchObject({ input: { command: "echo hello > out.txt" } });
    expect(events.filter((e) => e.type === "tool_result")).toHaveLength(2);
  });

  it("splits cached tokens out of input tokens and sums turns", () => {
    const usage = events.filter((e) => e.type === "usage");
    expect(usage).toEqual([
      { type: "usage", inputTokens: 2400, outputTokens: 150, cacheReadTokens: 600, cacheCreationTokens: 0 },
    ]);
    expect(events.at(-1)).toMatchObject({
      type: "result",
      isError: false,
      numTurns: 1,
      text: "Created out.txt and patched.txt.",
    });
  });

  it("does not treat the model-metadata warning as a failure, but does treat turn.failed as one", () => {
    expect(events.some((e) => e.type === "result" && e.isError)).toBe(false);
    const p = new CodexJsonParser();
    p.line(JSON.stringify({ type: "turn.failed", error: { message: "stream disconnected" } }));
    expect(p.end(1)).toEqual([
      expect.objectContaining({ type: "result", isError: true, text: "stream disconnected" }),
    ]);
  });
});

describe("unwrapShell", () => {
  it("undoes Codex's login-shell wrapping when the quoting is simple", () => {
    expect(unwrapShell("/bin/bash -lc 'npm test'")).toBe("npm test");
    expect(unwrapShell(`/bin/bash -lc "node -e \\"console.log(1)\\""`)).toBe('node -e "console.log(1)"');
    expect(unwrapShell("/bin/bash -lc 'it'\\''s'")).toBe("/bin/bash -lc 'it'\\''s'");
    expect(unwrapShell("ls -la")).toBe("ls -la");
  });
});

describe("command adapter output", () => {
  it("takes JSON lines of the event model as events and anything else as text", () => {
    const p = commandAdapter.parser();
    expect(
      p.line('{"type":"usage","inputTokens":3,"outputTokens":1,"cacheReadTokens":0,"cacheCreationTokens":0}'),
    ).toEqual([
      { type: "usage", inputTokens: 3, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0 },
    ]);
    expect(p.line('{"hello": 1}')).toEqual([{ type: "assistant", text: '{"hello": 1}' }]);
    expect(p.line("plain")).toEqual([{ type: "assistant", text: "plain" }]);
    expect(p.end(3)).toEqual([expect.objectContaining({ type: "result", isError: true })]);
  });
});

describe("a model API that cannot be reached or fails (issue 10, item 5)", () => {
  /** Claude Code 2.1.328's output for a failed API call (measured against test/support's server). */
  function claudeApiError(status: number | null, text: string): AgentEvent[] {
    const p = new ClaudeStreamParser();
    return [
      ...p.line(
        JSON.stringify({
          type: "assistant",
          error: status === 401 ? "authentication_failed" : "server_error",
          message: { id: "m1", model: "<synthetic>", role: "assistant", content: [{ type: "text", text }] },
        }),
      ),
      ...p.line(
        JSON.stringify({
          type: "result",
          subtype: "success",
          is_error: true,
          api_error_status: status,
          terminal_reason: "api_error",
          result: text,
          num_turns: 1,
        }),
      ),
      ...p.end(1),
    ];
  }

  it("Claude Code: a refused connection or a 5xx is model_unreachable, a 4xx is not; the synthetic message is not repeated", () => {
    const refused = claudeApiError(null, "API Error: Connection refused (ECONNREFUSED)");
    expect(refused).toEqual([
      expect.objectContaining({
        type: "result",
        isError: true,
        modelUnreachable: true,
        text: "API Error: Connection refused (ECONNREFUSED)",
      }),
    ]);
    for (const status of [500, 502, 529])
      expect(claudeApiError(status, `API Error: ${status}`)).toEqual([
        expect.objectContaining({ type: "result", modelUnreachable: true }),
      ]);
    for (const status of [400, 401, 429])
      expect(claudeApiError(status, `API Error: ${status}`)[0]).not.toHaveProperty("modelUnreachable");
  });

  it("Codex: a dropped stream or a 5xx is model_unreachable, a 400 is not", () => {
    const run = (message: string) => {
      const p = new CodexJsonParser();
      p.line(JSON.stringify({ type: "error", message }));
      p.line(JSON.stringify({ type: "turn.failed", error: { message } }));
      return p.end(1)[0];
    };
    for (const m of [
      "stream disconnected before completion: error sending request for url (http://127.0.0.1:9/v1/responses)",
      "unexpected status 502 Bad Gateway: upstream connect error, url: http://127.0.0.1:1/v1/responses",
      "We’re currently experiencing high demand, which may cause temporary errors.",
    ])
      expect(run(m)).toMatchObject({ isError: true, modelUnreachable: true });
    expect(run('{"error":{"message":"bad request","type":"invalid_request_error"}}')).not.toHaveProperty(
      "modelUnreachable",
    );
  });
});
