/**
 * What a deque routine (src/deque/) asks of one session, beyond a plain routine
 * run: which branch, which pull request to continue, extra prompt sections, the steps after
 * the agent, and whether to deliver at all. The runner stays workflow-agnostic: it only
 * follows these instructions.
 */
export interface SessionWork {
  /** The issue or PR number the session works on (stored as the session's `issue_number`). */
  itemNumber?: number;
  /** The new branch's name for a session id (issue agents: `<prefix>issue-<n>-<id>`). */
  branch?(sessionId: string): string;
  /**
   * Continue this pull request: the workspace is its head branch at `headSha`, and delivery
   * pushes the new commits to that branch (fast-forward only) instead of opening a PR.
   */
  pullRequest?: { number: number; head: string; headSha: string };
  /** Prompt sections added after the issue (already filtered by the author allowlist). */
  promptSections?: string[];
  /** Replaces the whole prompt (the judge's rubric and evidence). */
  prompt?: string;
  /** What was kept out of the prompt, recorded in the transcript (authors, not text). */
  filtered?: { kind: string; number: number; id?: string | number; author: string }[];
  /** The repository's test command, run in the workspace (sandboxed like the agent) after the agent. */
  testCommand?: string;
  /**
   * A second agent pass that reviews the diff against the task and fixes what it finds:
   * `on_failure` (when the test command fails), `always`, `off` (default).
   */
  selfReview?: "on_failure" | "always" | "off";
  /** `false`: no commit, push or PR (the judge reads code, it does not change it). */
  deliver?: boolean;
  /** `false`: skip the environment's setup script (the judge runs no build). */
  setup?: boolean;
}
