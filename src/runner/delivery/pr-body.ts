import { formatDuration } from "../../config/duration.ts";
import type { TokenTotals } from "../transcript/usage.ts";
import type { DiffSummary } from "./diff-summary.ts";

/** What a draft PR's body reports about the session that produced it. */
export interface PrBodyInput {
  sessionId: string;
  routine: string;
  agent: string;
  model: string | null;
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
    const s = p.summary.trim();
    lines.push(
      "",
      "## Summary",
      "",
      s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY)}\n\n[… truncated]` : s,
    );
  }
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
    `| agent | ${p.agent}${p.model ? ` (${p.model})` : ""} |`,
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
