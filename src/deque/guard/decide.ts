import picomatch from "picomatch";
import type { CheckResult, PullRequestStatus } from "../../forge/types.ts";
import type { GuardOptions } from "./options.ts";

/**
 * What the guard does with one open pull request:
 * - `demote`: convert it to draft (conflicting, or a considered check failed);
 * - `update_branch`: merge its base into its head (clean but behind);
 * - `wait`: nothing now, the next pass decides (mergeability still being computed, checks pending);
 * - `none`: nothing to do (mergeable and up to date, or blocked only by review);
 * - `skip`: a draft; the guard only keeps the queue of ready pull requests mergeable.
 */
export type GuardAction = "demote" | "update_branch" | "wait" | "none" | "skip";

/** The guard's decision for one pull request, with human-readable reasons (for reports and the PR comment). */
export interface GuardDecision {
  action: GuardAction;
  reasons: string[];
}

/** The settings {@link decide} reads; missing ones take the {@link GuardOptions} defaults. */
export type DecideOptions = Partial<
  Pick<GuardOptions, "ignore_checks" | "required_checks_only" | "update_branches">
>;

/**
 * Completed-check conclusions that demote a ready pull request: the ones PRodder (the guard
 * in the field report this design builds on) demotes for — `failure`, `timed_out`,
 * `cancelled`, `action_required`, `stale` — plus GitHub's `startup_failure` and a commit
 * status's `error`. `success`, `neutral` and `skipped` pass.
 */
export const FAILING_CONCLUSIONS: ReadonlySet<string> = new Set([
  "failure",
  "timed_out",
  "cancelled",
  "action_required",
  "stale",
  "startup_failure",
  "error",
]);

const matchers = new Map<string, (name: string) => boolean>();

/**
 * A matcher for `ignore_checks`: picomatch with `bash: true`, so `*` also crosses `/` (check
 * names are not paths: `ci/circleci: build`, `codecov/patch`); an exact name always matches.
 */
function ignoreMatcher(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  const key = JSON.stringify(globs);
  let m = matchers.get(key);
  if (!m) {
    const isMatch = picomatch([...globs], { dot: true, bash: true });
    const exact = new Set(globs);
    m = (name) => exact.has(name) || isMatch(name);
    matchers.set(key, m);
  }
  return m;
}

/**
 * The checks the guard judges a pull request by: every check, minus those whose name matches
 * `ignore_checks`; or, with `required_checks_only`, only the required ones (still minus the
 * ignored). Returns the considered checks and the ignored ones.
 */
export function consideredChecks(
  checks: readonly CheckResult[],
  options: DecideOptions = {},
): { considered: CheckResult[]; ignored: CheckResult[] } {
  const ignoredName = ignoreMatcher(options.ignore_checks ?? []);
  const considered: CheckResult[] = [];
  const ignored: CheckResult[] = [];
  for (const c of checks) {
    if (ignoredName(c.name) || (options.required_checks_only && !c.required)) ignored.push(c);
    else considered.push(c);
  }
  return { considered, ignored };
}

const isFailed = (c: CheckResult) =>
  c.status === "completed" && c.conclusion !== null && FAILING_CONCLUSIONS.has(c.conclusion);
const isPending = (c: CheckResult) => c.status !== "completed";
const quoted = (cs: readonly CheckResult[]) => cs.map((c) => `"${c.name}"`).join(", ");

/** `behind main by 3 commits`, `behind main` when the count is not known. */
function behindText(status: PullRequestStatus): string {
  const n = status.behindBy;
  return n !== null && n > 0
    ? `behind ${status.base} by ${n} commit${n === 1 ? "" : "s"}`
    : `behind ${status.base}`;
}

/**
 * Decides what the guard does with one open pull request. Pure: reads only `status` and
 * `options`. The rules, in order (PRodder's, see DESIGN.md "Lessons from the field", with
 * its known faults fixed):
 *
 * 1. A draft is skipped (PRodder re-demoted drafts on every run).
 * 2. Conflicting (`mergeable === false` or merge state `dirty`) → demote.
 * 3. A considered check completed with a {@link FAILING_CONCLUSIONS failing conclusion} →
 *    demote. Checks are of the current head, so this holds even while mergeability is unknown.
 * 4. `mergeable === null` → wait: GitHub is still computing it after a push.
 * 5. A considered check queued or in progress → wait ("checks pending"); a branch that is
 *    also behind is updated once they finish (an update would restart them).
 * 6. Behind its base (merge state `behind` or `behindBy > 0`) → update_branch, or none when
 *    `update_branches` is off.
 * 7. Merge state `blocked` with nothing failing or pending → none: blocked only by review,
 *    which is for reviewers (PRodder ignores review-only blocks too).
 * 8. Otherwise none.
 *
 * Failing checks that were ignored are listed in the reasons of a non-demoting decision, so
 * a report shows why a red PR was left ready.
 */
export function decide(status: PullRequestStatus, options: DecideOptions = {}): GuardDecision {
  if (status.draft || status.mergeState === "draft")
    return { action: "skip", reasons: ["draft; the guard only watches ready pull requests"] };

  const { considered, ignored } = consideredChecks(status.checks, options);
  const failed = considered.filter(isFailed);
  const pending = considered.filter(isPending);
  const conflicting = status.mergeable === false || status.mergeState === "dirty";

  const demoteReasons: string[] = [];
  if (conflicting) demoteReasons.push(`conflicts with ${status.base}`);
  for (const c of failed) demoteReasons.push(`check "${c.name}" concluded ${c.conclusion}`);
  if (demoteReasons.length > 0) return { action: "demote", reasons: demoteReasons };

  const ignoredFailures = ignored
    .filter(isFailed)
    .map(
      (c) =>
        `check "${c.name}" concluded ${c.conclusion} (not considered: ${options.required_checks_only && !c.required ? "not required" : "ignored"})`,
    );
  const behind = status.mergeState === "behind" || (status.behindBy !== null && status.behindBy > 0);

  const waitReasons: string[] = [];
  if (status.mergeable === null)
    waitReasons.push(`mergeability with ${status.base} not known yet (the forge is still computing it)`);
  if (pending.length > 0) waitReasons.push(`checks pending: ${quoted(pending)}`);
  if (waitReasons.length > 0) {
    if (behind && pending.length > 0)
      waitReasons.push(`${behindText(status)}; the branch is updated once checks finish`);
    return { action: "wait", reasons: [...waitReasons, ...ignoredFailures] };
  }

  const reviewOnly = status.mergeState === "blocked";
  const reviewReason = "blocked only by review; left to reviewers";
  if (behind) {
    const reasons = [...(reviewOnly ? [reviewReason] : []), ...ignoredFailures];
    return options.update_branches === false
      ? { action: "none", reasons: [`${behindText(status)}; update_branches is off`, ...reasons] }
      : { action: "update_branch", reasons: [behindText(status), ...reasons] };
  }
  if (reviewOnly) return { action: "none", reasons: [reviewReason, ...ignoredFailures] };
  return { action: "none", reasons: [`mergeable and up to date with ${status.base}`, ...ignoredFailures] };
}
