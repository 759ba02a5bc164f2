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
    const s = p.summary.trim();
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
