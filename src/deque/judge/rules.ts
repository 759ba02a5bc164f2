import picomatch from "picomatch";
import { ALWAYS_PROTECTED_PATHS } from "../../config/deque-schema.ts";
import type { CheckResult, PullRequestStatus } from "../../forge/types.ts";
import { protectedPathsTouched } from "../../runner/delivery/push-policy.ts";
import { FAILING_CONCLUSIONS } from "../guard/decide.ts";

/** Everything the judge's rule checks look at. */
export interface RuleInput {
  status: PullRequestStatus;
  /** Paths the PR changes (base...head). */
  diffFiles: string[];
  /** Paths the PR agent's final message says it changed (see {@link claimedFiles}). */
  claimed: string[];
  protectedPaths: string[];
  /** Ready (non-draft) nightshift PRs open in the repository now, and the cap (`deque.max_ready_prs`). */
  readyCount: number;
  maxReady: number;
}

/**
 * The judge's deterministic checks, run before any model is asked: a PR is never promoted
 * with failing or pending checks, conflicts, unknown mergeability, protected-path changes
 * (`protected_paths`, and `.nightshift/**` always, whoever opened the PR),
 * files the agent claims to have changed that the diff lacks, an empty diff, or when the
 * repository already has `max_ready_prs` ready nightshift PRs (review back-pressure).
 *
 * @returns the reasons to keep the PR a draft; empty when the model may decide.
 */
export function judgeRules(input: RuleInput): string[] {
  const reasons: string[] = [];
  const { status } = input;
  for (const c of status.checks) {
    if (c.status !== "completed") reasons.push(`check "${c.name}" is still ${c.status.replace("_", " ")}`);
    else if (c.conclusion && FAILING_CONCLUSIONS.has(c.conclusion))
      reasons.push(`check "${c.name}" concluded ${c.conclusion}`);
  }
  if (status.mergeable === false || status.mergeState === "dirty")
    reasons.push(`the branch conflicts with ${status.base}`);
  else if (status.mergeable === null) reasons.push("the forge has not computed mergeability yet");
  if (input.diffFiles.length === 0) reasons.push("the pull request changes no files");
  const touched = protectedFilesOf(input.diffFiles, input.protectedPaths);
  if (touched.length) reasons.push(`it changes protected paths: ${touched.join(", ")}`);
  const inDiff = new Set(input.diffFiles);
  const missing = input.claimed.filter((f) => !inDiff.has(f));
  if (missing.length)
    reasons.push(
      `the agent says it changed ${missing.join(", ")}, but the diff does not touch ${missing.length > 1 ? "them" : "it"}`,
    );
  if (input.readyCount >= input.maxReady)
    reasons.push(
      `${input.readyCount} nightshift PRs are already ready for review (deque.max_ready_prs: ${input.maxReady}); waiting for review`,
    );
  return reasons;
}

/**
 * The paths among `files` that match a protected glob (`protected_paths`), plus any under
 * nightshift's own folder in any letter case (`.NightShift/config.yaml` is `.nightshift/` on a
 * case-insensitive file system), whatever the globs say.
 */
export function protectedFilesOf(files: string[], globs: string[]): string[] {
  const always = picomatch(ALWAYS_PROTECTED_PATHS, { dot: true, nocase: true });
  const touched = new Set(protectedPathsTouched(files, globs));
  return files.filter((f) => touched.has(f) || always(f));
}

const VERBS =
  "changed|modified|updated|edited|added|created|fixed|wrote|rewrote|removed|deleted|renamed|refactored|implemented";
const CHANGE_VERB = new RegExp(String.raw`\b(?:${VERBS})\b`, "i");
const BARE_PATH = String.raw`(?:[\w.-]+\/)*[\w.-]+\.\w+`;
/** A backticked path anywhere on the line, or a bare path right after the verb ("updated src/a.ts"). */
const PATH = new RegExp(
  String.raw`\x60([^\x60\s]+)\x60|\b(?:${VERBS})\s+(?:the\s+)?(?:file\s+)?(${BARE_PATH})`,
  "gi",
);

/**
 * Paths an agent's final message claims it changed: on lines that use a change verb
 * ("changed", "updated", "fixed", …), paths in backticks, and bare paths right after the verb
 * ("updated src/a.ts"). A file merely mentioned ("node test.js prints ok") is not a claim. Used by the judge to catch "I changed X" when the diff has no X.
 */
export function claimedFiles(summary: string): string[] {
  const out = new Set<string>();
  for (const line of summary.split("\n")) {
    if (!CHANGE_VERB.test(line)) continue;
    for (const m of line.matchAll(PATH)) {
      const p = (m[1] ?? m[2] ?? "").replace(/^\.\//, "").replace(/[:,;.]+$/, "");
      if (/^[\w./-]+$/.test(p) && (p.includes("/") || /\.\w+$/.test(p)) && !p.startsWith("http")) out.add(p);
    }
  }
  return [...out];
}

/** Checks that did not succeed, for a PR agent's prompt: name, conclusion and output. */
export function failingChecks(checks: CheckResult[]): CheckResult[] {
  return checks.filter(
    (c) => c.status === "completed" && c.conclusion && FAILING_CONCLUSIONS.has(c.conclusion),
  );
}
