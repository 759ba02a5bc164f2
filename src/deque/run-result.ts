import type { TranscriptListener } from "../runner/transcript/recorder.ts";
import type { SessionRow } from "../store/schema.ts";
import type { FilteredRecord } from "./select/index.ts";

/** How a deque run was started and what to tell the caller as it goes. */
export interface DequeRunOptions {
  /** What started the run: `manual`, `schedule`, `api`, `github`, `webhook`. */
  trigger?: string;
  /** Run-specific text added to each session's prompt. */
  text?: string;
  /** Aborting cancels the running session and starts no more. */
  signal?: AbortSignal;
  hostEnv?: NodeJS.ProcessEnv;
  onEvent?: TranscriptListener;
  /** Called as each session is created. */
  onCreated?(sessionId: string): void;
  /** PRNG for the `random` strategy (values in [0, 1)); `Math.random` by default. */
  random?: () => number;
}

/** An item a deque run passed over, and why (for the run's report). */
export interface Skip {
  number: number;
  reason: string;
}

/** What one run of a deque routine did. */
export interface DequeRunResult {
  /** The sessions it ran, in order (none when nothing was selected). */
  sessions: SessionRow[];
  skipped: Skip[];
  /** Items by authors not on the allowlist: recorded, never shown to an agent. */
  filtered: FilteredRecord[];
  /** A one-line summary when the run did less than asked (back-pressure, more items waiting). */
  note?: string;
  /** The judge's verdicts on the PRs this run worked on (PR agents). */
  judgements?: { number: number; verdict: string; by: "rules" | "model"; reasons: string[] }[];
}

/** A one-line account of a deque run that selected nothing or skipped items. */
export function describeResult(r: DequeRunResult): string {
  const parts: string[] = [];
  if (r.note) parts.push(r.note);
  if (r.sessions.length === 0) parts.push("nothing selected");
  for (const j of r.judgements ?? [])
    parts.push(`judge (${j.by}): PR #${j.number} ${j.verdict}: ${j.reasons.join("; ")}`);
  if (r.skipped.length)
    parts.push(`skipped ${r.skipped.map((s) => `#${s.number} (${s.reason})`).join("; ")}`);
  if (r.filtered.length)
    parts.push(
      `filtered out (author not on deque.allowed_authors): ${r.filtered.map((f) => `${f.kind} #${f.number} by ${f.author}`).join(", ")}`,
    );
  return parts.join(" · ");
}

/**
 * The note a run gets when `deque.allowed_authors` is empty: every item is filtered out, so
 * the queue looks empty when it is not.
 */
export function emptyAllowlistNote(allowed: readonly string[]): { note: string } | Record<string, never> {
  return allowed.length
    ? {}
    : {
        note: "deque.allowed_authors in .nightshift/config.yaml is empty, so no issue, PR or comment can reach an agent: add the logins whose issues agents may work on",
      };
}
