import { formatDuration } from "../../config/duration.ts";
import type { TokenTotals } from "../transcript/usage.ts";
import type { DiffSummary } from "./diff-summary.ts";

/** What a draft PR's body reports about the session that produced it. */
export interface PrBodyInput {
  sessionId: string;
  routine: string;
  agent: string;
  model: string | null;
  /** `model` is the CLI's own choice: the routine sets no `model:`. */
  modelChosenByAgent?: boolean;
  /** The routine's test command's last run (`workflow.test_command`) and how many times it ran. */
  tests?: { command: string; exitCode: number | null; output: string; runs: number };
  issueNumber?: number;
  summary?: string;
  diff: DiffSummary;
  commands: { command: string; failed: boolean }[];
  tokens: TokenTotals;
  peakContextTokens: number;
  numTurns?: number;
  costUsd?: number;
  durationMs: number;
  /** Where to read the transcript: a URL when `base_url` is set, else a command. */
  transcript: string;
}

const n = (x: number) => x.toLocaleString("en-US");
const MAX_SUMMARY = 3000;
const MAX_LIST = 30;

/**
 * Renders the Markdown body of a draft PR: the agent's summary, what changed, the commands it
 * ran, tokens, cost and where the transcript is. The issue is referenced with "Refs", which
 * does not close it when the PR merges (only closing keywords such as "Fixes" do, per GitHub's
 * "Linking a pull request to an issue").
 */
export function renderPrBody(p: PrBodyInput): string {
  const lines: string[] = [];
  lines.push(`Draft opened by the nightshift routine \`${p.routine}\` (session \`${p.sessionId}\`).`);
  if (p.issueNumber !== undefined) lines.push("", `Refs #${p.issueNumber}`);
  if (p.summary?.trim()) {
    const s = inert(p.summary.trim());
    lines.push(
      "",
      "## Summary",
      "",
      s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY)}\n\n[… truncated]` : s,
    );
  }
  if (p.tests) lines.push(...testSection(p.tests));
  lines.push(
    "",
    "## What changed",
    "",
    `${p.diff.filesChanged} file${p.diff.filesChanged === 1 ? "" : "s"} changed, +${p.diff.insertions} −${p.diff.deletions}`,
    "",
  );
  for (const f of p.diff.files.slice(0, MAX_LIST))
    lines.push(`- \`${f.path}\` (+${f.insertions} −${f.deletions})`);
  if (p.diff.files.length > MAX_LIST) lines.push(`- … and ${p.diff.files.length - MAX_LIST} more`);
  lines.push("", "## Commands run", "");
  if (p.commands.length === 0) lines.push("None.");
  for (const c of p.commands.slice(0, MAX_LIST)) {
    const one = c.command.replace(/\s+/g, " ").slice(0, 200).replaceAll("`", "'");
    lines.push(`- \`${one}\`${c.failed ? " (failed)" : ""}`);
  }
  if (p.commands.length > MAX_LIST) lines.push(`- … and ${p.commands.length - MAX_LIST} more`);
  lines.push(
    "",
    "## Session",
    "",
    "| | |",
    "|---|---|",
    `| agent | ${p.agent}${p.model ? ` (${p.model}${p.modelChosenByAgent ? ", the CLI's default" : ""})` : ""} |`,
    `| turns | ${p.numTurns ?? "—"} |`,
    `| tokens | input ${n(p.tokens.inputTokens)} · output ${n(p.tokens.outputTokens)} · cache read ${n(p.tokens.cacheReadTokens)} · cache write ${n(p.tokens.cacheCreationTokens)} |`,
    `| peak context | ${n(p.peakContextTokens)} tokens |`,
    `| cost | ${p.costUsd !== undefined ? `$${p.costUsd.toFixed(4)}` : "not reported by the agent"} |`,
    `| duration | ${formatDuration(p.durationMs)} |`,
    "",
    `Transcript: ${p.transcript}`,
  );
  return `${lines.join("\n")}\n`;
}

const TEST_OUTPUT_LINES = 30;
const TEST_OUTPUT_CHARS = 3000;

/** `## Tests`: whether the test command passed, and the tail of its output when it did not. */
function testSection(t: NonNullable<PrBodyInput["tests"]>): string[] {
  const cmd = `\`${t.command.replace(/\s+/g, " ").slice(0, 200).replaceAll("`", "'")}\``;
  const again = t.runs > 1 ? ` (last of ${t.runs} runs: after the agent and after its self-review pass)` : "";
  if (t.exitCode === 0) return ["", "## Tests", "", `Passed: ${cmd} exited 0${again}.`];
  const how = t.exitCode === null ? "was stopped (timeout or cancel)" : `exited ${t.exitCode}`;
  const tail = t.output.trimEnd().split("\n").slice(-TEST_OUTPUT_LINES).join("\n").slice(-TEST_OUTPUT_CHARS);
  return [
    "",
    "## Tests",
    "",
    `**Failed**: ${cmd} ${how}${again}. The change is delivered as a draft anyway; it needs work before review.`,
    ...(tail ? ["", "```text", tail.replaceAll("```", "'''"), "```"] : []),
  ];
}

/** One session of a pull request's conversation: the first session or one of its follow-ups. */
export interface ConversationTurn {
  sessionId: string;
  /** `first`: the session that opened the PR; `follow-up`: a session continuing it. */
  kind: "first" | "follow-up";
  /**
   * What the session was asked: a follow-up's instructions; for the first session its
   * run-specific text or title, when it had one (else the routine's prompt, not repeated).
   */
  instructions: string | null;
  /** Routine name, for the first session. */
  routine?: string;
  /** The issue the first session worked on. */
  issueNumber?: number;
  /** How it ended: its task outcome (`pr_opened`, `pr_updated`, `no_changes`, …) or state. */
  outcome: string;
  /** Its change on the branch, when it pushed one. */
  diff?: { filesChanged: number; insertions: number; deletions: number };
  tokens: TokenTotals;
  /** USD as the agent reported it; `null` when it reported none (Codex, `command`). */
  costUsd: number | null;
}

/** Marks the start and end of the conversation section that follow-ups rewrite. */
export const CONVERSATION_START = "<!-- nightshift-conversation:start -->";
export const CONVERSATION_END = "<!-- nightshift-conversation:end -->";
const MAX_INSTRUCTIONS = 600;
/** Turns listed in full; beyond it the first and the latest ones are, with a count between. */
const MAX_TURNS = 40;

/**
 * Renders the `## Conversation` section of a pull request that follow-ups continued: the first
 * session's task, each follow-up's instructions (quoted, cut at 600 characters) with its session
 * id, outcome, change, tokens and cost, then the totals over every session. Wrapped in
 * {@link CONVERSATION_START}/{@link CONVERSATION_END} so the next follow-up replaces it
 * ({@link withConversation}). HTML comments in quoted text are neutralised, so text from an
 * agent or a person cannot fake the markers. `turns` oldest first.
 */
export function renderConversation(turns: ConversationTurn[]): string {
  const lines = [
    CONVERSATION_START,
    "## Conversation",
    "",
    `This pull request is one conversation with the agent over ${turns.length} session${turns.length === 1 ? "" : "s"}: the report above is from the session that opened it; each follow-up below continued the same agent conversation on this branch.`,
    "",
  ];
  const shown = turns.length > MAX_TURNS ? [...turns.slice(0, 1), ...turns.slice(-(MAX_TURNS - 1))] : turns;
  shown.forEach((t, i) => {
    if (turns.length > MAX_TURNS && i === 1)
      lines.push(
        `- … ${turns.length - MAX_TURNS} earlier follow-ups not listed (see \`nightshift sessions\`)`,
      );
    lines.push(...turnLines(t));
  });
  const total = turns.reduce(
    (a, t) => ({
      inputTokens: a.inputTokens + t.tokens.inputTokens,
      outputTokens: a.outputTokens + t.tokens.outputTokens,
      cacheReadTokens: a.cacheReadTokens + t.tokens.cacheReadTokens,
      cacheCreationTokens: a.cacheCreationTokens + t.tokens.cacheCreationTokens,
    }),
    { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
  );
  const costed = turns.filter((t) => t.costUsd !== null);
  const cost = costed.reduce((a, t) => a + (t.costUsd ?? 0), 0);
  const unreported = turns.length - costed.length;
  lines.push(
    "",
    `**Total** over ${turns.length} session${turns.length === 1 ? "" : "s"}: tokens input ${n(total.inputTokens)} · output ${n(total.outputTokens)} · cache read ${n(total.cacheReadTokens)} · cache write ${n(total.cacheCreationTokens)}; cost ${
      costed.length === 0
        ? "not reported by the agent"
        : `$${cost.toFixed(4)}${unreported ? ` (${unreported} session${unreported === 1 ? "" : "s"} reported no cost)` : ""}`
    }.`,
    CONVERSATION_END,
  );
  return lines.join("\n");
}

function turnLines(t: ConversationTurn): string[] {
  const what =
    t.kind === "first"
      ? `**First session** \`${t.sessionId}\` (routine \`${inert(t.routine ?? "?").replaceAll("`", "'")}\`${t.issueNumber !== undefined ? `, issue #${t.issueNumber}` : ""})`
      : `**Follow-up** \`${t.sessionId}\``;
  const change = t.diff
    ? ` · ${t.diff.filesChanged} file${t.diff.filesChanged === 1 ? "" : "s"} +${t.diff.insertions} −${t.diff.deletions}`
    : "";
  const tokens =
    t.tokens.inputTokens + t.tokens.outputTokens + t.tokens.cacheReadTokens + t.tokens.cacheCreationTokens;
  const cost = t.costUsd !== null ? ` · $${t.costUsd.toFixed(4)}` : "";
  const out = [`- ${what}: ${t.outcome.replaceAll("_", " ")}${change} · ${n(tokens)} tokens${cost}`];
  const text = t.instructions?.trim();
  if (text) {
    const cut = text.length > MAX_INSTRUCTIONS ? `${text.slice(0, MAX_INSTRUCTIONS)}…` : text;
    out.push(
      ...inert(cut)
        .split("\n")
        .map((l) => `  > ${l}`),
    );
  } else if (t.kind === "first") out.push("  > (the routine's prompt)");
  return out;
}

/** `text` with HTML comment openers made inert (`<!--` → `&lt;!--`), so it cannot fake a marker. */
function inert(text: string): string {
  return text.replaceAll("<!--", "&lt;!--");
}

/**
 * `body` with its conversation section replaced by `section` (from {@link renderConversation}),
 * or with `section` appended when it has none yet. Everything else in the body — the first
 * session's report, anything a person added — stays as it is.
 */
export function withConversation(body: string, section: string): string {
  const start = body.lastIndexOf(CONVERSATION_START);
  const end = start >= 0 ? body.indexOf(CONVERSATION_END, start) : -1;
  if (start >= 0 && end >= 0)
    return `${body.slice(0, start)}${section}${body.slice(end + CONVERSATION_END.length)}`;
  return `${body.trimEnd()}\n\n${section}\n`;
}
