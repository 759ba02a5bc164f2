/**
 * The one event model every agent adapter produces, whatever the CLI prints. Token counts
 * are tokens; costs are USD.
 */
export type AgentEvent =
  /** The agent started: its own session/thread id, model and tools, as far as it reports them. */
  | { type: "init"; agentSessionId?: string; model?: string; tools?: string[] }
  /** Text the model wrote to the user. */
  | { type: "assistant"; text: string }
  /** A tool the model called (`Bash`, `Edit`, Codex's `exec_command`, ...). */
  | { type: "tool_call"; id: string; name: string; input: unknown }
  /** What the tool returned. */
  | { type: "tool_result"; id: string; output: string; isError: boolean }
  /**
   * Usage of one model turn. `inputTokens` excludes cached tokens (Anthropic's convention;
   * Codex's cached tokens are subtracted), so context = input + cacheRead + cacheCreation.
   */
  | {
      type: "usage";
      inputTokens: number;
      outputTokens: number;
      cacheReadTokens: number;
      cacheCreationTokens: number;
    }
  /** The agent's own final verdict. Totals are present when the CLI reports them. */
  | {
      type: "result";
      isError: boolean;
      text?: string;
      subtype?: string;
      /**
       * The model API could not be reached (connection refused, DNS, TLS, a dropped stream) or
       * answered with a server error (5xx): an infrastructure failure, not the agent's.
       */
      modelUnreachable?: boolean;
      /**
       * The run ended on a tool call a hook deferred (Claude Code's `tool_deferred`): for
       * `AskUserQuestion`, the agent is waiting for the person's answer (needs input).
       */
      deferredTool?: { id: string; name: string; input: unknown };
      numTurns?: number;
      costUsd?: number;
      totals?: {
        inputTokens: number;
        outputTokens: number;
        cacheReadTokens: number;
        cacheCreationTokens: number;
      };
    }
  /** A line the agent wrote to stderr. */
  | { type: "stderr"; text: string }
  /** A stdout line that is not part of the CLI's JSON protocol. */
  | { type: "unparsed"; line: string };

/** Events the runner itself adds to a transcript. */
export type RunnerEvent =
  | { type: "state"; state: string; detail?: string }
  /** The full prompt the agent was given. */
  | { type: "prompt"; text: string }
  | { type: "agent_spawned"; command: string; args: string[]; cwd: string; pid: number; sandboxed?: boolean }
  | { type: "agent_exited"; exitCode: number | null; signal: string | null }
  | { type: "delivery"; action: string; repo: string; ref?: string; sha?: string; detail?: string }
  | { type: "error"; message: string }
  /** The agent asked the person (needs input); `id` is the stored question's (store/session-questions.ts). */
  | {
      type: "question";
      id: string;
      questions: {
        question: string;
        header?: string;
        options: { label: string; description?: string }[];
        multiSelect: boolean;
      }[];
    }
  /** Something the reader must know, such as an agent running without its sandbox. */
  | { type: "warning"; message: string }
  /** The transcript reached its size limit: later non-lifecycle events were not stored. */
  | { type: "transcript_limit"; message: string }
  /**
   * The environment's setup script (src/runner/setup/): `started` on a cache miss (the script
   * runs), `finished` with its exit code, output tail and duration (ms) and whether the result
   * was stored; `restored` on a cache hit (files restored, duration ms). `hash` keys the cache.
   */
  | {
      type: "setup";
      phase: "started" | "finished" | "restored";
      hash: string;
      cached: boolean;
      exitCode?: number | null;
      output?: string;
      durationMs?: number;
      detail?: string;
    }
  /**
   * Items a workflow kept out of the prompt because their authors are not on
   * `deque.allowed_authors`: what and whose, never their text.
   */
  | { type: "filtered"; items: { kind: string; number: number; id?: string | number; author: string }[] }
  /** A deterministic step around the agent (the routine's test command): command, exit code, output tail. */
  | {
      type: "step";
      name: string;
      command: string;
      exitCode: number | null;
      output: string;
      durationMs: number;
    };

/** Everything a transcript can hold. */
export type TranscriptEvent = AgentEvent | RunnerEvent;
