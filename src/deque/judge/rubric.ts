import { z } from "zod";
import type { CheckResult, Issue, PullRequest } from "../../forge/types.ts";

/** The judge's answer: `promote` (ready for review), `keep` (stays a draft), `close` (misaligned). */
export const VerdictSchema = z
  .object({
    verdict: z.enum(["promote", "keep", "close"]),
    reasons: z.array(z.string().min(1)).min(1),
  })
  .strict();
export type Verdict = z.output<typeof VerdictSchema>;

/** Largest diff (characters) the judge reads; a larger one is cut and the cut is said. */
export const JUDGE_DIFF_CHARS = 60_000;

/**
 * The judge's fixed rubric. It is the same for every PR, so verdicts are comparable across
 * runs and models; only the evidence (issue, PR, diff, checks) changes.
 */
export const JUDGE_RUBRIC = `You are the judge of a draft pull request written by a coding agent. You do not edit code.
Decide one verdict:
- "promote": the change does what the issue asks, completely; it is focused (no unrelated edits);
  tests cover the new behaviour where the repository has tests; nothing is left half-done
  (no TODOs for the task, no commented-out code, no placeholder values). A human reviewer
  could merge it as it is.
- "keep": the direction is right but work remains (missing cases, missing tests, unclear code,
  review comments not addressed). Say exactly what remains: the next agent reads your reasons.
- "close": the change is misaligned with the issue (solves another problem, misreads the issue,
  or takes an approach the issue rules out) and more iterations on this branch would not fix it.
  Say why, so the next attempt can avoid it. The issue stays open.
Answer with exactly one JSON object and nothing else:
{"verdict": "promote" | "keep" | "close", "reasons": ["…", "…"]}`;

/** The judge's full prompt: the rubric, then the evidence. Only allowlisted text is passed in. */
export function judgePrompt(p: {
  pr: PullRequest;
  issue?: Issue;
  diff: string;
  checks: CheckResult[];
}): string {
  const diff =
    p.diff.length > JUDGE_DIFF_CHARS
      ? `${p.diff.slice(0, JUDGE_DIFF_CHARS)}\n… (diff cut at ${JUDGE_DIFF_CHARS} characters of ${p.diff.length})`
      : p.diff;
  const parts = [JUDGE_RUBRIC];
  if (p.issue)
    parts.push(
      `## Issue #${p.issue.number}: ${p.issue.title}\n\n${p.issue.body.trim() || "(no description)"}`,
    );
  else parts.push("## Issue\n\n(no linked issue: judge the PR on its own description)");
  parts.push(`## Pull request #${p.pr.number}: ${p.pr.title}\n\n${p.pr.body.trim()}`);
  parts.push(
    `## Checks\n\n${p.checks.length ? p.checks.map((c) => `- ${c.name}: ${c.conclusion ?? c.status}`).join("\n") : "(none reported)"}`,
  );
  parts.push(`## Diff\n\n\`\`\`diff\n${diff}\n\`\`\``);
  return parts.join("\n\n");
}

/**
 * Reads the judge's verdict from its final message: the last JSON object in it (bare or in
 * a fenced block), validated. A model that answers anything else gets `keep`, with the
 * parse problem as the reason: an unreadable verdict never promotes or closes a PR.
 */
export function parseVerdict(text: string): Verdict {
  // Fenced blocks, last first; then spans from each "{" (last first) to the final "}".
  const candidates = [...text.matchAll(/```(?:json)?\s*([\s\S]*?)```/g)].map((m) => m[1]!.trim()).reverse();
  const end = text.lastIndexOf("}");
  for (let i = text.lastIndexOf("{", end); i >= 0; i = i === 0 ? -1 : text.lastIndexOf("{", i - 1)) {
    candidates.push(text.slice(i, end + 1));
  }
  for (const c of candidates) {
    try {
      const parsed = VerdictSchema.safeParse(JSON.parse(c));
      if (parsed.success) return parsed.data;
    } catch {
      // not JSON; try the next candidate
    }
  }
  return {
    verdict: "keep",
    reasons: [
      `the judge's answer was not a verdict object ({"verdict", "reasons"}): ${text.trim().slice(0, 200) || "(empty)"}`,
    ],
  };
}
