import type { Routine } from "../config/routine-schema.ts";
import type { Issue } from "../forge/types.ts";

/**
 * The full prompt an agent receives: the routine's instructions, then the issue it works on
 * (title and body), then a workflow's sections (discussion, earlier attempts, failing checks,
 * review comments), then run-specific text, then what the runner will do with its work.
 */
export function buildPrompt(opts: {
  routine: Routine;
  issue?: Issue;
  text?: string;
  branch: string;
  /** Extra sections from a deque routine, already filtered by the author allowlist. */
  sections?: string[];
  /** The pull request this session continues (its branch is checked out). */
  continuing?: number;
}): string {
  const parts = [opts.routine.prompt.trim()];
  if (opts.issue) {
    const i = opts.issue;
    parts.push(
      [
        `## Issue #${i.number}: ${i.title}`,
        `Opened by @${i.author}${i.labels.length ? `; labels: ${i.labels.join(", ")}` : ""}.`,
        "",
        i.body.trim() || "(no description)",
      ].join("\n"),
    );
  }
  for (const s of opts.sections ?? []) if (s.trim()) parts.push(s.trim());
  if (opts.text?.trim()) parts.push(`## Context for this run\n\n${opts.text.trim()}`);
  parts.push(
    [
      "## How this session works",
      `You are running unattended as the nightshift routine "${opts.routine.name}", in a fresh clone on branch \`${opts.branch}\`.`,
      "Change files in the working tree; you may commit, but do not push and do not switch branches.",
      opts.continuing !== undefined
        ? `When you stop, nightshift commits what you left uncommitted and pushes it to pull request #${opts.continuing} (never with force).`
        : "When you stop, nightshift commits what you left uncommitted, pushes the branch and opens a draft pull request.",
      "If nothing needs to change, change nothing and say why.",
    ].join("\n"),
  );
  return parts.join("\n\n");
}
