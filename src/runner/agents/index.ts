import type { AgentKind } from "../../config/routine-schema.ts";
import { claudeCodeAdapter } from "./claude-code.ts";
import { codexAdapter } from "./codex.ts";
import { commandAdapter } from "./command.ts";
import type { AgentAdapter } from "./types.ts";

/** The adapter for each `agent:` value of a routine. */
export const AGENT_ADAPTERS: Record<AgentKind, AgentAdapter> = {
  "claude-code": claudeCodeAdapter,
  codex: codexAdapter,
  command: commandAdapter,
};
