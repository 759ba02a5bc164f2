import { z } from "zod";
import { durationSchema } from "./duration.ts";

/**
 * The deque workflow's settings: the `workflow:` block of a routine's front-matter and the
 * `deque:` block of `.nightshift/config.yaml`. The rules they configure live in
 * `src/deque/`; the shapes live here so that config stays below deque.
 */

/**
 * A GitHub login (letters, digits, single hyphens, at most 39) or a bot's `name[bot]`, as
 * GitHub's REST API writes authors. The local forge's authors are the machine's user names,
 * so `.` and `_` are accepted too.
 */
export const GITHUB_LOGIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38})(?:\[bot\])?$/;

/** How long an item rests after a failed or no-change attempt unless `select.cooldown` says otherwise. */
export const DEFAULT_COOLDOWN_MS = 24 * 3_600_000;

/** The strategies a deque routine picks items by. */
export const STRATEGIES = ["oldest", "newest", "random", "smallest", "most-blocking"] as const;
export type Strategy = (typeof STRATEGIES)[number];

const labelList = z.array(z.string().trim().min(1, "a label name cannot be empty"));

/**
 * The `select:` block of a routine's front-matter: how the routine picks items from its queue.
 * Strict: an unknown key is an error. Every field has a default or is optional.
 *
 * ```yaml
 * select:
 *   strategy: oldest        # oldest | newest | random | smallest | most-blocking (default oldest)
 *   limit: 1                # items per run, a whole number ≥ 1 (default 1)
 *   labels: { include: [agent], exclude: [wontfix] }   # include: all of; exclude: any of
 *   repos: [.]              # optional; `.` is the project's own repository
 *   authors: [alice, "dependabot[bot]"]   # optional; only items by these logins (quote bots in [ ])
 *   cooldown: 24h           # rest after a failed or no-change attempt (default 24h; 0 turns it off)
 * ```
 *
 * `cooldown` is read with `parseDuration` (`90m`, `1h30m`, `2d`; a bare number is seconds) and
 * comes out in ms. A label both included and excluded is an error (nothing could ever match).
 */
export const SelectionSchema = z
  .object({
    strategy: z
      .enum(STRATEGIES, { error: () => `must be one of ${STRATEGIES.join(", ")}` })
      .default("oldest"),
    limit: z
      .number({ error: () => "must be a whole number, 1 or more" })
      .int("must be a whole number, 1 or more")
      .positive("must be a whole number, 1 or more")
      .default(1),
    labels: z
      .object({ include: labelList.optional(), exclude: labelList.optional() })
      .strict()
      .superRefine((labels, ctx) => {
        const excluded = new Set((labels.exclude ?? []).map((l) => l.toLowerCase()));
        for (const label of labels.include ?? []) {
          if (excluded.has(label.toLowerCase())) {
            ctx.addIssue({
              code: "custom",
              path: ["exclude"],
              message: `label ${JSON.stringify(label)} is both included and excluded, so no item could match`,
            });
          }
        }
      })
      .optional(),
    repos: z.array(z.string().trim().min(1, "a repository cannot be empty")).min(1).optional(),
    authors: z
      .array(
        z
          .string()
          .regex(
            GITHUB_LOGIN_RE,
            'must be a GitHub login without "@", such as "octocat" or "dependabot[bot]"',
          ),
      )
      .min(1, "needs at least one login; leave authors out to take items by anyone on the allowlist")
      .optional(),
    cooldown: durationSchema({ zero: "to turn rotation off" }).default(DEFAULT_COOLDOWN_MS),
  })
  .strict();

/** The `select:` block after validation and defaults; `cooldown` is in ms. */

/** The `select:` block with its defaults filled (`cooldown` in ms). */
export type Selection = z.output<typeof SelectionSchema>;

/** The guard's options (`workflow: {type: guard, guard: {…}}`, `nightshift guard`). */
export const GuardOptionsSchema = z
  .object({
    /** Check names (picomatch globs) the guard never demotes for, e.g. a flaky optional job. */
    ignore_checks: z.array(z.string().min(1)).default([]),
    /** Consider only checks branch protection requires. */
    required_checks_only: z.boolean().default(false),
    /** Merge the base into clean PRs that are behind it (`update-branch`). */
    update_branches: z.boolean().default(true),
    /** Comment on a PR when demoting it, saying why. */
    comment: z.boolean().default(true),
    /** Report what would be done, do nothing. */
    dry_run: z.boolean().default(false),
  })
  .strict()
  .default({
    ignore_checks: [],
    required_checks_only: false,
    update_branches: true,
    comment: true,
    dry_run: false,
  });
export type GuardOptions = z.output<typeof GuardOptionsSchema>;

/** The judge: a separate agent call with a fixed rubric; `false` turns it off. */
export const JudgeSchema = z.union([
  z.literal(false),
  z
    .object({
      /** The judge's model (default: the routine's). */
      model: z.string().min(1).optional(),
    })
    .strict(),
]);

/**
 * A routine's `workflow:` block. Without it a routine is a plain routine (prompt → session →
 * draft PR). With it, nightshift runs the deque workflow step of `type` around the agent:
 * - `issue-agent`: picks open issues, one session each, opens a draft PR per issue;
 * - `pr-agent`: picks its draft PRs, fixes checks, answers review, then the judge;
 * - `guard`: no agent; demotes unmergeable ready PRs and updates branches behind their base.
 */
export const WorkflowSchema = z
  .object({
    type: z.enum(["issue-agent", "pr-agent", "guard"]),
    select: SelectionSchema.default({ strategy: "oldest", limit: 1, cooldown: DEFAULT_COOLDOWN_MS }),
    /** The repository's test command, run in the sandbox after the agent (issue and PR agents). */
    test_command: z.string().min(1).optional(),
    /**
     * A second agent pass that reviews the branch's diff against the task and fixes it:
     * `on_failure` (when the test command fails; default), `always`, `off`.
     */
    self_review: z.enum(["on_failure", "always", "off"]).default("on_failure"),
    judge: JudgeSchema.default({}),
    guard: GuardOptionsSchema,
  })
  .strict();
export type Workflow = z.output<typeof WorkflowSchema>;

/**
 * `deque:` in `.nightshift/config.yaml`: the rules every deque routine shares.
 * - `allowed_authors`: issues, PRs, comments and reviews by anyone else never reach a prompt
 *   (the prompt-injection defence; GitHub logins, case-insensitive).
 * - `max_ready_prs`: the judge stops promoting when this many nightshift PRs are ready for
 *   review in a repository (review back-pressure).
 * - `max_open_drafts`: issue agents stop opening PRs when this many nightshift drafts are open.
 */
export const DequeSchema = z
  .object({
    allowed_authors: z.array(z.string().regex(GITHUB_LOGIN_RE, "must be a GitHub login")).default([]),
    max_ready_prs: z.number().int().positive().default(5),
    max_open_drafts: z.number().int().positive().default(10),
  })
  .strict()
  .default({ allowed_authors: [], max_ready_prs: 5, max_open_drafts: 10 });
export type DequeConfig = z.output<typeof DequeSchema>;

/**
 * Paths that are protected whatever `protected_paths` says: nightshift's own rules (routines,
 * `config.yaml`, loop files). An agent that could change them could widen its own sandbox,
 * network or agent, so a push touching them is refused and the judge never promotes a PR that
 * does; only a human edits them.
 */
export const ALWAYS_PROTECTED_PATHS = [".nightshift/**"];

/** Paths a push may never touch, whatever the routine: nightshift's rules and CI configuration by default. */
export const DEFAULT_PROTECTED_PATHS = [...ALWAYS_PROTECTED_PATHS, ".github/workflows/**", ".ci/**"];
