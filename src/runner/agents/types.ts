import type { Routine } from "../../config/routine-schema.ts";
import type { ResolvedMcpServer } from "../mcp/servers.ts";
import type { AgentEvent } from "../transcript/events.ts";
import type { AgentInvocation } from "./invocation.ts";

export type { AgentInvocation } from "./invocation.ts";

/** What an adapter needs to build a command line for one session. */
export interface AgentContext {
  routine: Routine;
  /** The full prompt: routine body, issue, run text and the runner's instructions. */
  prompt: string;
  /** The agent's working directory (the session's clone). */
  cwd: string;
  /** A private HOME for this session (the CLIs write their state there). */
  home: string;
  /** A private temporary folder for this session. */
  tmp: string;
  sessionId: string;
  /** Variables of the routine's environment (already resolved); added to the agent's environment. */
  extraEnv?: Record<string, string>;
  /** The host environment the credentials are taken from. */
  hostEnv: NodeJS.ProcessEnv;
  /**
   * The MCP servers the routine allowlists (values resolved; they may hold secrets). The
   * adapter hands the CLI exactly these and no other: Claude Code gets `--mcp-config` with
   * `--strict-mcp-config`, Codex `[mcp_servers.*]` in its private config.toml.
   */
  mcpServers?: Record<string, ResolvedMcpServer>;
  /**
   * Continue an earlier session's agent conversation (a follow-up): same `home`, `tmp` and
   * `cwd` as that session, `prompt` holds only the new instructions. Claude Code runs
   * `--resume <agentSessionId>`, Codex `exec resume <agentSessionId>`; the command agent gets
   * the ids in `NIGHTSHIFT_PARENT_SESSION_ID` / `NIGHTSHIFT_AGENT_SESSION_ID`.
   */
  resume?: AgentResume;
}

/** What a follow-up resumes (see {@link AgentContext.resume}). */
export interface AgentResume {
  /** The nightshift session continued. */
  parentSessionId: string;
  /** The agent CLI's conversation id in that session (Claude Code's session id, Codex's thread id); none for a command that reported none. */
  agentSessionId?: string;
  /** Answers to a question the agent asked before it stopped, by question text. */
  toolAnswer?: Record<string, string>;
}

/** Turns the CLI's stdout, one line at a time, into events; `end` is called once at exit. */
export interface OutputParser {
  line(text: string): AgentEvent[];
  end(exitCode: number | null): AgentEvent[];
}

/** One agent CLI: how to check its credentials, start it, and read its output. */
export interface AgentAdapter {
  readonly kind: "claude-code" | "codex" | "command";
  /**
   * Checks, before anything is spawned, that the agent can authenticate.
   * @returns `undefined` when it can, else a message saying which variables to set.
   */
  checkCredentials(hostEnv: NodeJS.ProcessEnv): string | undefined;
  invocation(ctx: AgentContext): Promise<AgentInvocation>;
  parser(): OutputParser;
}
