import { type Forge, NIGHTSHIFT_AUTHOR, type PullRequestStatus } from "../../forge/types.ts";
import type { Clock } from "../../util/clock.ts";
import { decide, type GuardAction, type GuardDecision } from "./decide.ts";
import { type GuardOptionsInput, GuardOptionsSchema } from "./options.ts";

/** The hidden marker that starts every comment the guard writes, so agents and tools can find them. */
export const GUARD_MARKER = "<!-- nightshift:guard -->";

/** Author of the guard's comments where the forge records one (the local forge; GitHub uses the token's identity). */
export const GUARD_AUTHOR = NIGHTSHIFT_AUTHOR;

/** What the guard did with one open pull request. */
export interface GuardItem {
  repo: string;
  number: number;
  title: string;
  /**
   * What the guard did (or, in a dry run, would do). An `update_branch` that met a conflict is
   * reported as `demote`, one whose head moved meanwhile as `wait`.
   */
  action: GuardAction;
  /** Whether the forge was changed: the PR was converted to draft, or its branch updated. Always `false` in a dry run. */
  applied: boolean;
  /** Why, in words (the same lines go into the demotion comment). */
  reasons: string[];
  /** The head commit the decision was made on. */
  headSha: string;
  /** After an applied `update_branch`: the new head (the merge commit). */
  newHeadSha?: string;
  /** What failed while applying the action (a {@link ForgeError} or a request error); the pass went on. */
  error?: string;
}

/** One guard pass over some repositories. Times are ms since the epoch. */
export interface GuardReport {
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  items: GuardItem[];
  /** Repositories whose open pull requests could not be read at all. */
  repoErrors: { repo: string; error: string }[];
  /** Items per action, how many changed the forge, and errors (items plus repositories). */
  totals: Record<GuardAction, number> & { applied: number; errors: number };
  /** Forge requests the pass made (`Forge.requestCount` after minus before); `null` when the forge does not count. */
  requests: number | null;
}

/** A log callback, as the daemon's `logFn(logger)` provides. */
export type GuardLog = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

/** Inputs of {@link runGuard}. */
export interface RunGuardInput {
  /** Forge repository names to guard, in order. */
  repos: readonly string[];
  /** Decide and report only; defaults to `options.dry_run`. */
  dryRun?: boolean;
  /** Guard settings (front-matter shape); parsed with {@link GuardOptionsSchema}, defaults filled. */
  options?: GuardOptionsInput;
  clock: Clock;
  log?: GuardLog;
  /** Author recorded on the guard's comments; default {@link GUARD_AUTHOR}. */
  author?: string;
}

/**
 * The comment the guard adds to a pull request it demoted: the {@link GUARD_MARKER}, the
 * reasons as a list, and what to do next.
 */
export function demotionComment(reasons: readonly string[]): string {
  return [
    GUARD_MARKER,
    "**nightshift guard** converted this pull request to draft:",
    "",
    ...reasons.map((r) => `- ${r}`),
    "",
    "Fix these, then mark it ready for review again.",
  ].join("\n");
}

/**
 * Runs one guard pass: reads each repository's open pull requests in one batched call
 * (`forge.listPullRequestStatuses`, never per-PR reads), {@link decide}s for each, and unless
 * it is a dry run applies the decision — `demote`: `setDraft(true)` then one comment with the
 * reasons (when `options.comment`); `update_branch`: `updateBranch` with the head the
 * decision saw as `expected_head_sha`, demoting (and commenting) on a conflict and waiting
 * for the next pass when the head moved. Where the forge batches writes (`forge.batch`:
 * GitHub sends them as aliased GraphQL mutations, executed serially, a few requests per pass)
 * every pull request's actions run at once inside one batch; elsewhere (the local forge) one
 * pull request at a time. Either way a pull request's own steps run in order (convert to
 * draft, then comment) and the report lists the pull requests in the order they were read.
 *
 * Idempotent: a demoted PR is a draft on the next pass and is skipped, so it gets no second
 * comment. An error on one pull request (or one repository's listing) is recorded in the
 * report and the pass goes on.
 *
 * @throws {ZodError} when `options` does not match {@link GuardOptionsSchema}.
 */
export async function runGuard(forge: Forge, input: RunGuardInput): Promise<GuardReport> {
  const options = GuardOptionsSchema.parse(input.options ?? {});
  const dryRun = input.dryRun ?? options.dry_run;
  const log = input.log ?? (() => {});
  const author = input.author ?? GUARD_AUTHOR;
  const startedAt = input.clock.now();
  const requestsBefore = forge.requestCount;
  const items: GuardItem[] = [];
  const repoErrors: GuardReport["repoErrors"] = [];

  for (const repo of input.repos) {
    let statuses: PullRequestStatus[];
    try {
      // The local forge is its own CI: results for new heads are produced before reading them.
      if (!dryRun) await forge.runPendingChecks?.(repo);
      statuses = await forge.listPullRequestStatuses(repo);
    } catch (err) {
      const error = `could not list open pull requests of ${repo}: ${message(err)}`;
      log("error", "guard: listing pull requests failed", { repo, error });
      repoErrors.push({ repo, error });
      continue;
    }
    const decided = statuses.map((status) => ({ status, decision: decide(status, options) }));
    const applyOne = ({ status, decision }: (typeof decided)[number]) =>
      apply(forge, status, decision, { comment: options.comment, author });
    let done: GuardItem[];
    if (dryRun) done = decided.map(({ status, decision }) => base(status, decision));
    else if (forge.batch) {
      // Every PR at once, so the forge can send their writes together (GitHub: aliased
      // mutations, a few requests per pass); each PR's own steps still run in order.
      const batch = forge.batch.bind(forge);
      done = await batch(() => Promise.all(decided.map(applyOne)));
    } else {
      done = [];
      for (const d of decided) done.push(await applyOne(d));
    }
    for (const item of done) {
      if (item.error) log("warn", "guard: action failed", { repo, number: item.number, error: item.error });
      else if (item.applied)
        log("info", `guard: ${item.action}`, { repo, number: item.number, reasons: item.reasons });
      items.push(item);
    }
  }

  const totals: GuardReport["totals"] = {
    demote: 0,
    update_branch: 0,
    wait: 0,
    none: 0,
    skip: 0,
    applied: 0,
    errors: repoErrors.length,
  };
  for (const it of items) {
    totals[it.action]++;
    if (it.applied) totals.applied++;
    if (it.error !== undefined) totals.errors++;
  }
  const requestsAfter = forge.requestCount;
  return {
    dryRun,
    startedAt,
    finishedAt: input.clock.now(),
    items,
    repoErrors,
    totals,
    requests:
      typeof requestsBefore === "number" && typeof requestsAfter === "number"
        ? requestsAfter - requestsBefore
        : null,
  };
}

function base(status: PullRequestStatus, decision: GuardDecision): GuardItem {
  return {
    repo: status.repo,
    number: status.number,
    title: status.title,
    action: decision.action,
    applied: false,
    reasons: [...decision.reasons],
    headSha: status.headSha,
  };
}

/** Applies one decision; never throws (errors go into the item). */
async function apply(
  forge: Forge,
  status: PullRequestStatus,
  decision: GuardDecision,
  opts: { comment: boolean; author: string },
): Promise<GuardItem> {
  const item = base(status, decision);
  const { repo, number } = status;
  try {
    if (decision.action === "demote") {
      await demote(forge, item, opts);
    } else if (decision.action === "update_branch") {
      const result = await forge.updateBranch(repo, number, status.headSha);
      if (result.updated) {
        item.applied = true;
        if (result.headSha) item.newHeadSha = result.headSha;
        item.reasons.splice(
          1,
          0,
          `merged ${status.base} into ${status.head}${result.headSha ? ` (now ${result.headSha.slice(0, 10)})` : ""}`,
        );
      } else if (result.reason === "conflict") {
        item.action = "demote";
        item.reasons = [`conflicts with ${status.base}${result.detail ? `: ${result.detail}` : ""}`];
        await demote(forge, item, opts);
      } else if (result.reason === "head_moved") {
        item.action = "wait";
        item.reasons.splice(
          1,
          0,
          `head moved since it was read${result.detail ? ` (${result.detail})` : ""}; the next pass decides`,
        );
      } else {
        item.action = "none";
        item.reasons.splice(
          1,
          0,
          `already up to date with ${status.base}${result.detail ? ` (${result.detail})` : ""}`,
        );
      }
    }
  } catch (err) {
    item.error = `${item.action} ${repo}#${number}: ${message(err)}`;
  }
  return item;
}

/** Converts to draft, then comments; `applied` is set as soon as the PR is a draft. */
async function demote(
  forge: Forge,
  item: GuardItem,
  opts: { comment: boolean; author: string },
): Promise<void> {
  await forge.setDraft(item.repo, item.number, true);
  item.applied = true;
  if (opts.comment)
    await forge.addComment(item.repo, item.number, {
      author: opts.author,
      body: demotionComment(item.reasons),
    });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
