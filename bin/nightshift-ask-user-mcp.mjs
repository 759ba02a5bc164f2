#!/usr/bin/env node
/**
 * nightshift's `ask_user` MCP server (stdio), given to Codex and `command` sessions so an
 * agent can ask the person a question and stop. Plain JavaScript so it runs inside the
 * sandbox (nightshift's bin/ and node_modules are readable there).
 *
 *   node nightshift-ask-user-mcp.mjs <question file>
 *
 * It has no store access: `ask_user` writes the questions to `<question file>` (in the
 * session's private tmp folder; the runner reads it after the agent exits, validates it and
 * ends the session in `needs_input`) and tells the agent to end its turn. The answer comes
 * back as the agent's next message (a follow-up of the session).
 */
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: nightshift-ask-user-mcp.mjs <question file>\n");
  process.exit(2);
}

const server = new McpServer({ name: "nightshift", version: "1.0.0" });
const option = z.object({ label: z.string().min(1).max(200), description: z.string().max(1000).optional() });
const question = z.object({
  question: z.string().min(1).max(2000).describe("The question, as a complete sentence"),
  header: z.string().max(60).optional().describe("A very short label for it"),
  options: z.array(option).max(10).optional().describe("The choices; leave out for a free-text answer"),
  multiSelect: z.boolean().optional().describe("Whether several options may be chosen"),
});

server.registerTool(
  "ask_user",
  {
    description:
      "Ask the person who runs you a question when you cannot go on without their decision. " +
      "After calling it, end your turn at once: no more tool calls. The run stops; their answer " +
      "arrives as your next message and you continue from there.",
    inputSchema: { questions: z.array(question).min(1).max(4) },
  },
  ({ questions }) => {
    if (existsSync(file))
      return {
        content: [{ type: "text", text: "You already asked. End your turn now and wait for the answer." }],
      };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ questions, askedAt: Date.now() }), { mode: 0o600 });
    renameSync(tmp, file);
    return {
      content: [
        {
          type: "text",
          text:
            "Your question was sent to the person. End your turn now, without any further tool call " +
            "or change: the run stops here, and their answer will come as your next message.",
        },
      ],
    };
  },
);

await server.connect(new StdioServerTransport());
