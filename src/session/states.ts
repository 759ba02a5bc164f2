/**
 * What a session is, independent of where it is stored: its lifecycle states and the two
 * outcomes it ends with. The store's tables (src/store/schema.ts), the runner, the queue and
 * the CLI all speak these words.
 */

/**
 * Lifecycle states of a session, in order; the last four are terminal. `needs_input`: the
 * agent asked the person a question and its run ended (no process, no worker slot); the
 * session waits for the answer, which continues it as a follow-up. It is not terminal: its
 * workspace and private HOME (the agent CLI's conversation) are kept until it is answered.
 */
export const SESSION_STATES = [
  "queued",
  "preparing",
  "running",
  "finishing",
  "needs_input",
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
] as const;
export type SessionState = (typeof SESSION_STATES)[number];
export const TERMINAL_STATES: readonly SessionState[] = ["succeeded", "failed", "timed_out", "cancelled"];
/**
 * States in which no process of the session runs: the terminal ones and `needs_input`.
 * Recovery skips them, `logs -f` stops following at them.
 */
export const IDLE_STATES: readonly SessionState[] = [...TERMINAL_STATES, "needs_input"];

/**
 * What happened to the machinery (`infra_outcome`) versus the task (`task_outcome`): a
 * session can run flawlessly and still change nothing.
 * - infra: `ok` | `missing_credentials` | `workspace_error` | `agent_spawn_error` | `delivery_error` | `timeout` | `cancelled` | `internal_error`
 * - task: `agent_error` | `no_changes` | `pr_opened` | `pr_updated` (a PR agent pushed to its PR) | `push_refused` |
 *   `judged_promote` | `judged_keep` | `judged_close` (a judge session's verdict)
 */
export type InfraOutcome =
  | "ok"
  | "missing_credentials"
  | "environment_error"
  | "workspace_error"
  | "agent_spawn_error"
  /** The model API could not be reached or answered 5xx (retried by the queue). */
  | "model_unreachable"
  | "delivery_error"
  | "timeout"
  | "cancelled"
  | "internal_error";
export type TaskOutcome =
  | "agent_error"
  | "no_changes"
  | "pr_opened"
  | "pr_updated"
  | "push_refused"
  | "judged_promote"
  | "judged_keep"
  | "judged_close";

/** How a session's test step (`workflow.test_command`) ended. */
export type TestResult = "passed" | "failed" | "killed";

/** Where a session's `model` came from: the routine's `model:`, or the agent CLI's own default. */
export type ModelSource = "routine" | "agent";
