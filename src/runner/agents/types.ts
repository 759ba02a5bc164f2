import type { Routine } from "../../config/routine-schema.ts";
import type { ResolvedMcpServer } from "../mcp/servers.ts";
import type { AgentEvent } from "../transcript/events.ts";

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
}

/** A process to spawn. `env` is the complete environment: nothing else is inherited. */
export interface AgentInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /**
   * Absolute path of a file the process reads as its standard input (opened read-only and
   * passed as a file descriptor, never a pipe: an open stdin pipe costs Claude Code 3 s);
   * without it stdin is `/dev/null`. Prompts travel this way, because Linux limits ONE argv
   * item or environment string to 128 KiB (`MAX_ARG_STRLEN`, spawn fails with `E2BIG`).
   */
  stdinFile?: string;
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
