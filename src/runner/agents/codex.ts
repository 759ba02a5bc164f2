import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ASK_USER_SERVER_NAME, askUserServer } from "../mcp/ask-user.ts";
import { codexMcpToml } from "../mcp/servers.ts";
import type { AgentEvent } from "../transcript/events.ts";
import { parseJsonLine } from "./json-line.ts";
import { baseAgentEnv, hasAny, resolveBin, writePromptFile } from "./env.ts";
import type { AgentAdapter, AgentContext, AgentInvocation, OutputParser } from "./types.ts";

/** Variables Codex authenticates with (any one is enough; a `codex login` auth.json also works). */
export const CODEX_CREDENTIAL_VARS = ["OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"] as const;

const CODEX_PASS = [
  "OPENAI_API_KEY",
  "CODEX_API_KEY",
  "OPENAI_ORG_ID",
  "OPENAI_PROJECT_ID",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
];

function hostAuthFile(hostEnv: NodeJS.ProcessEnv): string {
  return join(hostEnv.CODEX_HOME || join(homedir(), ".codex"), "auth.json");
}

/**
 * Codex, run headless: `codex exec --json --disable plugins
 * --dangerously-bypass-approvals-and-sandbox [-m model] -`: the prompt is read from stdin,
 * the session's prompt file (it waits for EOF, so never an open pipe; Codex refuses input over
 * 1,048,576 characters), and a private `CODEX_HOME` per session. With `OPENAI_BASE_URL`
 * set, a `config.toml` declares a Responses-API provider at that URL; otherwise the host's
 * `codex login` credentials (`auth.json`) are copied in. The routine's MCP servers become
 * `[mcp_servers.<name>]` tables there. Codex has no turn limit flag, so
 * `max_turns` does not apply; the timeout does.
 */
export const codexAdapter: AgentAdapter = {
  kind: "codex",

  checkCredentials(hostEnv) {
    if (hasAny(hostEnv, CODEX_CREDENTIAL_VARS) || existsSync(hostAuthFile(hostEnv))) return undefined;
    return (
      "Codex has no credentials: set OPENAI_API_KEY (or CODEX_API_KEY), or OPENAI_BASE_URL (a Responses-API " +
      "gateway), or run `codex login` so $CODEX_HOME/auth.json exists, then run again"
    );
  },

  async invocation(ctx: AgentContext): Promise<AgentInvocation> {
    const codexHome = join(ctx.home, ".codex");
    mkdirSync(codexHome, { recursive: true });
    const toml = ["[analytics]", "enabled = false", ""];
    const baseUrl = ctx.hostEnv.OPENAI_BASE_URL;
    // A follow-up: `exec resume <thread id>` continues the thread stored in this CODEX_HOME.
    const args = [
      "exec",
      ...(ctx.resume?.agentSessionId ? ["resume"] : []),
      "--json",
      "--disable",
      "plugins",
      "--dangerously-bypass-approvals-and-sandbox",
      "--skip-git-repo-check",
    ];
    if (baseUrl) {
      toml.unshift('model_provider = "nightshift"', "");
      toml.push(
        "[model_providers.nightshift]",
        'name = "nightshift"',
        `base_url = ${JSON.stringify(baseUrl.replace(/\/$/, ""))}`,
        'wire_api = "responses"',
        ...(hasAny(ctx.hostEnv, ["OPENAI_API_KEY"]) ? ['env_key = "OPENAI_API_KEY"'] : []),
        "",
      );
    } else if (existsSync(hostAuthFile(ctx.hostEnv))) {
      copyFileSync(hostAuthFile(ctx.hostEnv), join(codexHome, "auth.json"));
      chmodSync(join(codexHome, "auth.json"), 0o600); // a credential: its owner only, whatever the original's mode
    }
    // Plus nightshift's ask_user server: the agent may ask the person and stop (needs input).
    toml.push(...codexMcpToml({ ...ctx.mcpServers, [ASK_USER_SERVER_NAME]: askUserServer(ctx.tmp) }));
    writeFileSync(join(codexHome, "config.toml"), toml.join("\n"), { mode: 0o600 });
    if (ctx.routine.model) args.push("-m", ctx.routine.model);
    if (ctx.resume?.agentSessionId) args.push(ctx.resume.agentSessionId);
    // `-`: the prompt is read from stdin, the prompt file (an argument is limited to 128 KiB).
    args.push("-");
    const env = baseAgentEnv(ctx, CODEX_PASS);
    env.CODEX_HOME = codexHome;
    return {
      command: resolveBin("codex", "NIGHTSHIFT_CODEX_BIN", ctx.hostEnv),
      args,
      env,
      cwd: ctx.cwd,
      stdinFile: writePromptFile(ctx),
    };
  },

  parser: () => new CodexJsonParser(),
};

/**
 * Reads `codex exec --json`: `thread.started`, `item.started`/`item.completed`
 * (`command_execution`, `file_change`, `agent_message`, `error`), `turn.completed` with the
 * turn's usage (no cost), `turn.failed`. Codex counts `input_tokens` including cached ones;
 * they are split here so the event model's convention holds. The "Model metadata ... not
 * found" item Codex prints for unknown model names is a warning, not a failure.
 */
export class CodexJsonParser implements OutputParser {
  #turns = 0;
  #failure: string | undefined;
  /** The last top-level `error` message (Codex prints one before `turn.failed`, and while reconnecting). */
  #lastError: string | undefined;
  #lastMessage: string | undefined;
  #totals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };

  line(text: string): AgentEvent[] {
    const parsed = parseJsonLine(text);
    if ("events" in parsed) return parsed.events;
    const { msg } = parsed;
    const item = msg.item ?? {};
    switch (msg.type) {
      case "thread.started":
        return [{ type: "init", agentSessionId: msg.thread_id }];
      case "item.started":
        if (item.type === "command_execution")
          return [
            {
              type: "tool_call",
              id: item.id,
              name: "exec_command",
              input: { command: unwrapShell(item.command) },
            },
          ];
        if (item.type === "file_change")
          return [{ type: "tool_call", id: item.id, name: "apply_patch", input: { changes: item.changes } }];
        return [];
      case "item.completed":
        switch (item.type) {
          case "agent_message":
            this.#lastMessage = item.text;
            return [{ type: "assistant", text: item.text ?? "" }];
          case "command_execution":
            return [
              {
                type: "tool_result",
                id: item.id,
                output:
                  `${item.aggregated_output ?? ""}${item.exit_code != null ? `\n[exit ${item.exit_code}]` : ""}`.trim(),
                isError: item.status === "failed" || (item.exit_code ?? 0) !== 0,
              },
            ];
          case "file_change":
            return [
              {
                type: "tool_result",
                id: item.id,
                output: (item.changes ?? [])
                  .map((c: { kind: string; path: string }) => `${c.kind} ${c.path}`)
                  .join("\n"),
                isError: item.status === "failed",
              },
            ];
          case "error":
            return [{ type: "stderr", text: `codex: ${item.message ?? "error"}` }];
          default:
            return [];
        }
      case "turn.completed": {
        this.#turns++;
        const u = msg.usage ?? {};
        const cached = u.cached_input_tokens ?? 0;
        const usage = {
          inputTokens: Math.max(0, (u.input_tokens ?? 0) - cached),
          outputTokens: u.output_tokens ?? 0,
          cacheReadTokens: cached,
          cacheCreationTokens: u.cache_write_input_tokens ?? 0,
        };
        for (const k of Object.keys(usage) as (keyof typeof usage)[]) this.#totals[k] += usage[k];
        return [{ type: "usage", ...usage }];
      }
      case "turn.failed":
        this.#failure = msg.error?.message ?? "turn failed";
        return [{ type: "stderr", text: `codex: turn failed: ${this.#failure}` }];
      case "error":
        this.#lastError = msg.message ?? "error";
        return [{ type: "stderr", text: `codex: ${msg.message ?? "error"}` }];
      default:
        return [];
    }
  }

  end(exitCode: number | null): AgentEvent[] {
    const isError = exitCode !== 0 || this.#failure !== undefined;
    const text = this.#failure ?? this.#lastMessage;
    const apiError = this.#failure ?? this.#lastError;
    return [
      {
        type: "result",
        isError,
        subtype: isError ? "error" : "success",
        ...(isError && apiError !== undefined && CODEX_UNREACHABLE.test(apiError)
          ? { modelUnreachable: true }
          : {}),
        numTurns: this.#turns,
        totals: { ...this.#totals },
        ...(text !== undefined ? { text } : {}),
      },
    ];
  }
}

/**
 * Codex's messages for a model API it could not reach or that answered 5xx (measured with
 * 0.169.0): "stream disconnected before completion: error sending request …", "Reconnecting…
 * (Connection failed: error sending request)", "unexpected status 502 Bad Gateway: …, url: …",
 * and for a 500 "We’re currently experiencing high demand…".
 */
const CODEX_UNREACHABLE =
  /error sending request|stream disconnected|connection (?:failed|refused|reset)|unexpected status 5\d\d|experiencing high demand|dns error|failed to connect/i;

/**
 * Codex reports commands as it ran them, wrapped in a login shell (`/bin/bash -lc '<cmd>'`);
 * this returns `<cmd>` when the quoting is simple enough to undo exactly, else the original.
 */
export function unwrapShell(command: string): string {
  const m = /^\S*\/(?:ba|z)?sh -lc (['"])([\s\S]*)\1$/.exec(command ?? "");
  if (!m) return command;
  const [, quote, inner] = m as unknown as [string, string, string];
  if (quote === "'") return inner.includes("'") ? command : inner;
  return inner.replace(/\\(["\\$`])/g, "$1");
}
