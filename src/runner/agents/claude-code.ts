import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ALLOWED_TOOLS } from "../../config/routine-schema.ts";
import { claudeAskSettings } from "../mcp/ask-user.ts";
import { claudeMcpConfig } from "../mcp/servers.ts";
import type { AgentEvent } from "../transcript/events.ts";
import { parseJsonLine } from "./json-line.ts";
import { baseAgentEnv, hasAny, resolveBin, writePromptFile } from "./env.ts";
import type { AgentAdapter, AgentContext, AgentInvocation, OutputParser } from "./types.ts";

/** Variables Claude Code authenticates with (any one is enough). */
export const CLAUDE_CREDENTIAL_VARS = [
  "ANTHROPIC_API_KEY",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "ANTHROPIC_BASE_URL",
] as const;

/** Host variables passed to Claude Code besides the credentials. */
const CLAUDE_PASS = [
  ...CLAUDE_CREDENTIAL_VARS,
  "ANTHROPIC_AUTH_TOKEN",
  "ANTHROPIC_CUSTOM_HEADERS",
  "CLAUDE_CODE_MAX_RETRIES",
  "API_TIMEOUT_MS",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
];

/**
 * Claude Code, run headless: `claude -p --output-format stream-json --verbose` with the
 * prompt on stdin, from the session's prompt file (an argument is limited to 128 KiB;
 * stream-json requires `--verbose`), permission mode `bypassPermissions` limited to the
 * routine's `--tools`, and a fresh `HOME` per session (it writes `~/.claude.json`). MCP: the
 * routine's servers in `<session>/tmp/mcp.json` with `--strict-mcp-config` (always, so no other
 * MCP configuration is loaded); their tools (`mcp__<server>__<tool>`) need no `--tools` entry —
 * `--tools` picks built-in tools only, and bypassPermissions lets MCP tools run.
 * As root the bypass mode refuses to start unless `IS_SANDBOX=1` (Claude Code's rule).
 */
export const claudeCodeAdapter: AgentAdapter = {
  kind: "claude-code",

  checkCredentials(hostEnv) {
    if (hasAny(hostEnv, CLAUDE_CREDENTIAL_VARS)) return undefined;
    return (
      "Claude Code has no credentials: set ANTHROPIC_API_KEY (an API key), or CLAUDE_CODE_OAUTH_TOKEN " +
      "(a subscription token from `claude setup-token`), or ANTHROPIC_BASE_URL (a gateway), then run again"
    );
  },

  async invocation(ctx: AgentContext): Promise<AgentInvocation> {
    const r = ctx.routine;
    // `-p` without a prompt argument reads the prompt from stdin: the prompt file.
    const args = [
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "bypassPermissions",
      "--tools",
      // AskUserQuestion: the agent may ask the person and stop (needs input, see mcp/ask-user.ts).
      [...new Set([...(r.allowed_tools ?? DEFAULT_ALLOWED_TOOLS), "AskUserQuestion"])].join(","),
      // A follow-up continues the earlier conversation (same HOME: its files are there).
      ...(ctx.resume?.agentSessionId
        ? ["--resume", ctx.resume.agentSessionId]
        : ["--session-id", randomUUID()]),
    ];
    // Only the routine's MCP servers: never the repository's .mcp.json or any settings file's.
    args.push("--strict-mcp-config");
    if (ctx.mcpServers && Object.keys(ctx.mcpServers).length > 0) {
      // In the session's tmp folder: outside the workspace, readable inside the sandbox.
      const file = join(ctx.tmp, "mcp.json");
      writeFileSync(file, claudeMcpConfig(ctx.mcpServers), { mode: 0o600 });
      args.push("--mcp-config", file);
    }
    if (r.model) args.push("--model", r.model);
    if (r.max_turns) args.push("--max-turns", String(r.max_turns));
    args.push(...askUserArgs(ctx));
    const env = baseAgentEnv(ctx, CLAUDE_PASS);
    Object.assign(env, {
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_TMPDIR: ctx.tmp,
    });
    if (process.getuid?.() === 0) env.IS_SANDBOX = "1";
    return {
      command: resolveBin("claude", "NIGHTSHIFT_CLAUDE_BIN", ctx.hostEnv),
      args,
      env,
      cwd: ctx.cwd,
      stdinFile: claudeStdinFile(ctx, writePromptFile(ctx)),
    };
  },

  parser: () => new ClaudeStreamParser(),
};

/**
 * Needs input: in `-p` mode Claude Code 2.1.328 offers `AskUserQuestion` only with
 * `--input-format stream-json --permission-prompt-tool stdio` (the prompt then arrives as a
 * stream-json user message on stdin). nightshift's PreToolUse hook, from a settings file in
 * the session's private tmp folder (never the repository's), defers the call: the run ends
 * with `terminal_reason: "tool_deferred"` and the session waits in `needs_input`.
 */
function askUserArgs(ctx: AgentContext): string[] {
  const settings = join(ctx.tmp, "claude-ask-settings.json");
  writeFileSync(settings, claudeAskSettings(ctx.home), { mode: 0o600 });
  return ["--input-format", "stream-json", "--permission-prompt-tool", "stdio", "--settings", settings];
}

/**
 * Claude Code's stdin with `--input-format stream-json`: the prompt as one user message
 * (`<tmp>/prompt.jsonl`, mode 0600). A resume that answers a deferred `AskUserQuestion`
 * (`resume.toolAnswer`) gets an empty stdin: Claude Code re-runs the deferred call, the hook
 * answers it from the answers file, and the model continues with the tool result.
 */
function claudeStdinFile(ctx: AgentContext, promptFile: string): string {
  const file = join(ctx.tmp, "prompt.jsonl");
  const answering = ctx.resume?.toolAnswer !== undefined;
  const message = { type: "user", message: { role: "user", content: readFileSync(promptFile, "utf8") } };
  writeFileSync(file, answering ? "" : `${JSON.stringify(message)}\n`, { mode: 0o600 });
  return file;
}

interface ClaudeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

const toUsage = (u: ClaudeUsage) => ({
  inputTokens: u.input_tokens ?? 0,
  outputTokens: u.output_tokens ?? 0,
  cacheReadTokens: u.cache_read_input_tokens ?? 0,
  cacheCreationTokens: u.cache_creation_input_tokens ?? 0,
});

/**
 * Reads `--output-format stream-json`: `system/init`, `assistant` (one event per content
 * block; blocks of one message share `message.id`, so usage is counted once per id), `user`
 * (tool results) and the final `result`. Failure is judged by `is_error`, not `subtype`: an
 * API error still reports `subtype: "success"` with `is_error: true`.
 */
export class ClaudeStreamParser implements OutputParser {
  #messagesSeen = new Set<string>();
  #sawResult = false;

  line(text: string): AgentEvent[] {
    const parsed = parseJsonLine(text);
    if ("events" in parsed) return parsed.events;
    const { msg } = parsed;
    switch (msg.type) {
      case "system":
        return msg.subtype === "init"
          ? [{ type: "init", agentSessionId: msg.session_id, model: msg.model, tools: msg.tools }]
          : [];
      case "assistant": {
        const out: AgentEvent[] = [];
        const m = msg.message ?? {};
        // Claude Code's own message for a failed API call ("API Error: …", model `<synthetic>`):
        // the final `result` repeats it, so it is not shown twice.
        if (msg.error && m.model === "<synthetic>") return [];
        if (m.id && !this.#messagesSeen.has(m.id) && m.usage) {
          this.#messagesSeen.add(m.id);
          out.push({ type: "usage", ...toUsage(m.usage) });
        }
        for (const block of m.content ?? []) {
          if (block.type === "text" && block.text) out.push({ type: "assistant", text: block.text });
          else if (block.type === "tool_use")
            out.push({ type: "tool_call", id: block.id, name: block.name, input: block.input });
        }
        return out;
      }
      case "user": {
        const out: AgentEvent[] = [];
        for (const block of msg.message?.content ?? []) {
          if (block.type !== "tool_result") continue;
          out.push({
            type: "tool_result",
            id: block.tool_use_id,
            output: resultText(block.content),
            isError: block.is_error === true,
          });
        }
        return out;
      }
      case "result":
        this.#sawResult = true;
        return [
          {
            type: "result",
            isError: msg.is_error === true,
            subtype: msg.subtype,
            ...(msg.is_error === true && isModelUnreachable(msg) ? { modelUnreachable: true } : {}),
            ...(typeof msg.result === "string" ? { text: msg.result } : {}),
            ...(typeof msg.num_turns === "number" ? { numTurns: msg.num_turns } : {}),
            ...(typeof msg.total_cost_usd === "number" ? { costUsd: msg.total_cost_usd } : {}),
            ...(msg.usage ? { totals: toUsage(msg.usage) } : {}),
            ...deferredTool(msg),
          },
        ];
      default:
        return [];
    }
  }

  end(exitCode: number | null): AgentEvent[] {
    if (this.#sawResult) return [];
    return [
      {
        type: "result",
        isError: true,
        subtype: "no_result",
        text: `Claude Code exited (code ${exitCode ?? "signal"}) without a result`,
      },
    ];
  }
}

/**
 * Whether a failed `result` is the model API's fault: `terminal_reason: "api_error"` with a
 * 5xx `api_error_status` (529 overloaded included), or with none at all — a connection that
 * failed ("API Error: Connection refused … (ECONNREFUSED)"). A 4xx (bad key, bad request,
 * rate limit) is not: another try with the same settings fails the same way.
 */
function isModelUnreachable(msg: { terminal_reason?: unknown; api_error_status?: unknown }): boolean {
  if (msg.terminal_reason !== "api_error") return false;
  const status = msg.api_error_status;
  return status === null || status === undefined || (typeof status === "number" && status >= 500);
}

/**
 * The tool call a PreToolUse hook deferred (`terminal_reason: "tool_deferred"`, the call in
 * `deferred_tool_use: {id, name, input}`), as the result's `deferredTool`. Claude Code's
 * output is the agent's: only a string id and name are taken.
 */
function deferredTool(msg: { terminal_reason?: unknown; deferred_tool_use?: unknown }): {
  deferredTool?: { id: string; name: string; input: unknown };
} {
  if (msg.terminal_reason !== "tool_deferred") return {};
  const d = msg.deferred_tool_use as { id?: unknown; name?: unknown; input?: unknown } | undefined;
  if (!d || typeof d.id !== "string" || typeof d.name !== "string") return {};
  return { deferredTool: { id: d.id, name: d.name, input: d.input } };
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((c) =>
        c && typeof c === "object" && "text" in c ? String((c as { text: unknown }).text) : JSON.stringify(c),
      )
      .join("\n");
  }
  return content === undefined ? "" : JSON.stringify(content);
}
