/**
 * The process an agent adapter asks the runner to start. Its own module (no imports) so the
 * sandbox, the setup and test steps and the adapters can all name it without importing the
 * adapter types, which name the MCP servers, which name the sandbox.
 */

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
