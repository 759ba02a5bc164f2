import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ASK_USER_SERVER_NAME, askUserServer } from "../mcp/ask-user.ts";
import { claudeMcpConfig } from "../mcp/servers.ts";
import type { AgentEvent } from "../transcript/events.ts";
import { baseAgentEnv, writePromptFile } from "./env.ts";
import type { AgentAdapter, AgentContext, AgentInvocation, OutputParser } from "./types.ts";

const EVENT_TYPES = new Set(["init", "assistant", "tool_call", "tool_result", "usage", "result"]);

/**
 * Any program as an agent: `command` runs with `sh -c` in the workspace (stdin `/dev/null`),
 * with the prompt in the file named by `NIGHTSHIFT_PROMPT_FILE` — never in an environment
 * variable, which Linux limits to 128 KiB (there is no `NIGHTSHIFT_PROMPT`). A stdout line that
 * is a JSON object whose `type` is one of the event model's types is taken as that event;
 * any other line is assistant text. Exit code 0 is success.
 */
export const commandAdapter: AgentAdapter = {
  kind: "command",

  checkCredentials: () => undefined,

  async invocation(ctx: AgentContext): Promise<AgentInvocation> {
    const env = baseAgentEnv(ctx, []);
    // Only the file: one environment string may not exceed 128 KiB (spawn fails with E2BIG).
    env.NIGHTSHIFT_PROMPT_FILE = writePromptFile(ctx);
    if (ctx.routine.model) env.NIGHTSHIFT_MODEL = ctx.routine.model;
    // nightshift's ask_user MCP server (needs input), as a `.mcp.json`-shaped file for an MCP client.
    env.NIGHTSHIFT_MCP_CONFIG = join(ctx.tmp, "nightshift-mcp.json");
    writeFileSync(
      env.NIGHTSHIFT_MCP_CONFIG,
      claudeMcpConfig({ [ASK_USER_SERVER_NAME]: askUserServer(ctx.tmp) }),
      {
        mode: 0o600,
      },
    );
    // A follow-up: a new run in the same workspace, told which session it continues.
    if (ctx.resume) {
      env.NIGHTSHIFT_PARENT_SESSION_ID = ctx.resume.parentSessionId;
      if (ctx.resume.agentSessionId) env.NIGHTSHIFT_AGENT_SESSION_ID = ctx.resume.agentSessionId;
    }
    return { command: "/bin/sh", args: ["-c", ctx.routine.command!], env, cwd: ctx.cwd };
  },

  parser(): OutputParser {
    let sawResult = false;
    return {
      line(text) {
        if (text.startsWith("{")) {
          try {
            const ev = JSON.parse(text) as AgentEvent;
            if (ev && typeof ev === "object" && EVENT_TYPES.has(ev.type)) {
              if (ev.type === "result") sawResult = true;
              return [ev];
            }
          } catch {
            // not JSON: plain text below
          }
        }
        return text.trim() ? [{ type: "assistant", text }] : [];
      },
      end(exitCode) {
        if (sawResult) return [];
        return [
          exitCode === 0
            ? { type: "result", isError: false, subtype: "success" }
            : {
                type: "result",
                isError: true,
                subtype: "exit_code",
                text: `command exited with ${exitCode ?? "a signal"}`,
              },
        ];
      },
    };
  },
};
