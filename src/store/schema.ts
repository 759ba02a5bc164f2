import type { ColumnType, Selectable } from "kysely";
import type { InfraOutcome, ModelSource, SessionState, TaskOutcome, TestResult } from "../session/states.ts";

/**
 * Table types of the store. Timestamps are ms since the Unix epoch (`bigint` columns, read
 * back as numbers); booleans are 0/1 integers and JSON is text, so the same schema runs on
 * SQLite and Postgres.
 */
export interface Database {
  sessions: SessionsTable;
  transcript_events: TranscriptEventsTable;
  deliveries: DeliveriesTable;
  forge_counters: ForgeCountersTable;
  forge_issues: ForgeIssuesTable;
  forge_pull_requests: ForgePullRequestsTable;
  forge_comments: ForgeCommentsTable;
  forge_checks: ForgeChecksTable;
  forge_review_threads: ForgeReviewThreadsTable;
  runs: RunsTable;
  api_tokens: ApiTokensTable;
  webhook_deliveries: WebhookDeliveriesTable;
  schedule_cursors: ScheduleCursorsTable;
  work_claims: WorkClaimsTable;
  session_messages: SessionMessagesTable;
}

/** An item a deque session is working on now (see store/work-claims.ts). Times are ms. */
export interface WorkClaimsTable {
  repo: string;
  number: number;
  routine: string;
  claimed_at: number;
  expires_at: number;
}

export interface SessionsTable {
  id: string;
  routine: string;
  agent: string;
  model: string | null;
  state: SessionState;
  infra_outcome: InfraOutcome | null;
  task_outcome: TaskOutcome | null;
  /** Human-readable reason for a failure or a refusal. */
  reason: string | null;
  /** What started it: `manual`, later `schedule`, `api`, `github`, `webhook`. */
  trigger: string;
  issue_number: number | null;
  /** Run-specific text (`--text`). */
  input_text: string | null;
  repo: string | null;
  branch: string | null;
  base_branch: string | null;
  base_sha: string | null;
  head_sha: string | null;
  pr_number: number | null;
  workspace_path: string | null;
  workspace_removed_at: number | null;
  /** The agent CLI's own conversation id (Claude Code's session id, Codex's thread id): what a follow-up resumes. */
  agent_session_id: string | null;
  /** The session this one continues (a follow-up: same workspace, branch and PR); null for a first session. */
  parent_session_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** A short title for lists (a dispatch's first prompt line, at most 80 characters); null when none. */
  title: ColumnType<string | null, string | null | undefined, string | null>;
  exit_code: number | null;
  /** Host name and process id of the runner that owns a non-terminal session (crash recovery). */
  runner_host: string | null;
  runner_pid: number | null;
  /** Process (group) id of the running agent, so recovery can stop an orphaned agent. */
  agent_pid: number | null;
  input_tokens: ColumnType<number, number | undefined, number>;
  output_tokens: ColumnType<number, number | undefined, number>;
  cache_read_tokens: ColumnType<number, number | undefined, number>;
  cache_creation_tokens: ColumnType<number, number | undefined, number>;
  /** Largest context seen in one turn (input + cache tokens), in tokens. */
  context_tokens: number | null;
  /** Cost in USD as reported by the agent CLI (Claude Code reports it; Codex does not). */
  cost_usd: number | null;
  num_turns: number | null;
  /** The routine's test command (`workflow.test_command`) when it ran; its last run's exit code (null when killed). */
  test_command: ColumnType<string | null, string | null | undefined, string | null>;
  test_exit_code: ColumnType<number | null, number | null | undefined, number | null>;
  /** `passed` | `failed` | `killed` (timeout or cancel) for the last run; null when no test step ran. */
  test_result: ColumnType<TestResult | null, TestResult | null | undefined, TestResult | null>;
  /** How many times the test command ran (twice when a self-review pass ran). */
  test_runs: ColumnType<number | null, number | null | undefined, number | null>;
  /** Where `model` came from: `routine` (its `model:`) or `agent` (the CLI's default, from its init event). */
  model_source: ColumnType<ModelSource | null, ModelSource | null | undefined, ModelSource | null>;
  files_changed: number | null;
  insertions: number | null;
  deletions: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface TranscriptEventsTable {
  session_id: string;
  /** 1-based position in the session's transcript. */
  seq: number;
  at: number;
  kind: string;
  /** The event as JSON. */
  data: string;
}

export interface DeliveriesTable {
  id: string;
  session_id: string;
  repo: string;
  /** `commit` | `push` | `push_refused` | `pr_opened` | `no_changes` */
  action: string;
  ref: string | null;
  sha: string | null;
  detail: string | null;
  at: number;
}

export interface ForgeCountersTable {
  repo: string;
  /** Last number handed out; issues and PRs share one sequence, as on GitHub. */
  last_number: number;
}

export interface ForgeIssuesTable {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  /** JSON array of label names. */
  labels: string;
  state: "open" | "closed";
  created_at: number;
  updated_at: number;
}

export interface ForgePullRequestsTable {
  repo: string;
  number: number;
  title: string;
  body: string;
  author: string;
  head: string;
  base: string;
  draft: number;
  state: "open" | "closed" | "merged";
  session_id: string | null;
  /** JSON array of label names (added by migration 0003). */
  labels: string;
  created_at: number;
  updated_at: number;
}

export interface ForgeCommentsTable {
  id: string;
  repo: string;
  number: number;
  author: string;
  body: string;
  /** The review thread a review comment belongs to; `null` for a plain issue or PR comment. */
  thread_id: string | null;
  created_at: number;
}

/**
 * A check on a commit of the local forge (GitHub's check run): one row per repository,
 * commit and check name; running a check again replaces its row.
 */
export interface ForgeChecksTable {
  repo: string;
  sha: string;
  name: string;
  /** `queued` | `in_progress` | `completed` */
  status: "queued" | "in_progress" | "completed";
  /** Set once completed: `success`, `failure`, `timed_out`, `cancelled`, ... (GitHub's names, lower case). */
  conclusion: string | null;
  /** 1 when the check must pass (GitHub: required by branch protection). */
  required: number;
  /** The tail of the check's log, at most 64 KiB. */
  output: string | null;
  url: string | null;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
}

/** A review thread of the local forge: line comments on one place of a PR's diff. */
export interface ForgeReviewThreadsTable {
  id: string;
  repo: string;
  number: number;
  path: string | null;
  line: number | null;
  /** 0/1 */
  resolved: number;
  created_at: number;
  resolved_at: number | null;
}

/** A session as read from the store. */
export type SessionRow = Selectable<SessionsTable>;

/**
 * States of a queued run: `pending` (waiting for a worker or a retry), `running` (leased),
 * `done` (its session finished, whatever the session's outcome), `failed` (infrastructure
 * failures used up its attempts), and the slots that never became sessions: `skipped`
 * (overlap policy), `missed` (missed-run policy), `cancelled`.
 */
export type RunState = "pending" | "running" | "done" | "failed" | "skipped" | "missed" | "cancelled";

export interface RunsTable {
  id: string;
  routine: string;
  /** `schedule` | `once` | `api` | `github` | `webhook` | `manual` */
  trigger: string;
  /** Unique per routine: a schedule slot, a delivery id, an idempotency key. */
  dedupe_key: string;
  /** The slot time for scheduled runs (ms). */
  scheduled_for: number | null;
  state: RunState;
  reason: string | null;
  /** Run-specific text for the prompt (API `text`, a webhook summary). */
  context: string | null;
  issue_number: number | null;
  /** At most this many runs of the routine may run at once for this one to start; 0: no limit. */
  max_running: number;
  attempt: number;
  max_attempts: number;
  /** Earliest time a worker may claim it (ms): now, or after a retry backoff. */
  available_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  session_id: string | null;
  /**
   * A queued follow-up or dispatch (JSON of store/runs.ts `RunRequestData`); null for a plain
   * run of a routine.
   */
  request: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/**
 * A reply sent to a session that was still running (migration 0006): kept until the session's
 * turn ends, then delivered as (part of) a follow-up session, whose id is stored in
 * `delivered_session_id`. Times are ms.
 */
export interface SessionMessagesTable {
  id: string;
  session_id: string;
  text: string;
  created_at: number;
  delivered_session_id: string | null;
}

export interface ApiTokensTable {
  id: string;
  routine: string;
  /** The first characters of the token, to tell tokens apart in lists. */
  prefix: string;
  /** Hex SHA-256 of the token; the token itself is never stored. */
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface WebhookDeliveriesTable {
  /** `github` or a generic source name. */
  source: string;
  delivery_id: string;
  event: string | null;
  received_at: number;
  /** How many runs the delivery started. */
  runs: number;
}

export interface ScheduleCursorsTable {
  routine: string;
  /** Identifies one trigger of the routine (its schedule text). */
  trigger_key: string;
  /** Slots up to this time (ms) have been fired, skipped or recorded missed. Never moves back. */
  considered_until: number;
  created_at: number;
}
