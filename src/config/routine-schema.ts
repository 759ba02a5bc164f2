import { normalize } from "node:path";
import { Cron } from "croner";
import { z } from "zod";
import { GithubTriggerSchema } from "../triggers/github/filter.ts";
import { durationSchema, parseDuration } from "./duration.ts";
import { GITHUB_LOGIN_RE, WorkflowSchema } from "./deque-schema.ts";

/** The agent CLIs nightshift can drive. */
export const AGENTS = ["claude-code", "codex", "command"] as const;
export type AgentKind = (typeof AGENTS)[number];

/** Schedule presets accepted in `triggers[].schedule` besides a 5-field cron expression. */
export const SCHEDULE_PRESETS = ["hourly", "daily", "weekdays", "weekly"] as const;

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * What a routine name may be: lowercase letters, digits, `-` and `_`, starting with a letter or
 * digit, at most 63 characters. The name comes from the file name (or `name:`) and becomes part
 * of git branch names (`<branch_prefix><name>-<session>`), so it must be a valid branch name
 * component on every forge.
 */
export const ROUTINE_NAME_RE = NAME_RE;

/** {@link ROUTINE_NAME_RE} in words, for error messages. */
export const ROUTINE_NAME_RULE =
  "lowercase letters, digits, '-' or '_', starting with a letter or digit, at most 63 characters";

const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' },
);

/** How far ahead a schedule must fire at least once: a cron with no run in 5 years never fires. */
const NEVER_FIRES_HORIZON_MS = 5 * 366 * 86_400_000;

const scheduleTrigger = z
  .object({
    schedule: z.string().superRefine((s, ctx) => {
      if ((SCHEDULE_PRESETS as readonly string[]).includes(s)) return;
      const help = `must be a 5-field cron expression (minute hour day-of-month month day-of-week, such as "0 9 * * 1-5") or one of ${SCHEDULE_PRESETS.join(", ")}`;
      const fields = s.trim().split(/\s+/).filter(Boolean).length;
      if (fields !== 5) {
        ctx.addIssue({
          code: "custom",
          message: `${help}; ${JSON.stringify(s)} has ${fields} field${fields === 1 ? "" : "s"}`,
        });
        return;
      }
      let cron: Cron;
      try {
        cron = new Cron(s, { paused: true, mode: "5-part" });
      } catch (err) {
        const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
        ctx.addIssue({ code: "custom", message: `${help}; ${JSON.stringify(s)} is not valid: ${why}` });
        return;
      }
      const next = cron.nextRun();
      if (!next || next.getTime() - Date.now() > NEVER_FIRES_HORIZON_MS) {
        ctx.addIssue({
          code: "custom",
          message: `${JSON.stringify(s)} never fires: no date in the next 5 years matches it (such as the 31st of a 30-day month, or 30 February); check the day-of-month and month fields`,
        });
      }
    }),
    at: z
      .string()
      .regex(
        /^([01]?\d|2[0-3]):[0-5]\d$/,
        'must be a time of day "HH:MM" from 00:00 to 23:59 (24-hour clock, such as "03:00" or "18:30")',
      )
      .optional(),
    timezone: timezone.optional(),
  })
  .strict();

/** A one-off run: at an instant, or after a duration from when the routine was first seen. */
const onceAtTrigger = z
  .object({
    at: z.string().refine((v) => /\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) && !Number.isNaN(Date.parse(v)), {
      message:
        'must be an ISO 8601 instant such as "2026-12-01T09:00:00Z" (or use schedule + at for a time of day)',
    }),
  })
  .strict();
const onceInTrigger = z
  .object({
    in: z
      .string()
      .refine((v) => parseDuration(v) !== undefined, { message: 'must be a duration such as "2h" or "14d"' }),
  })
  .strict();

const apiTrigger = z.object({ api: z.literal(true) }).strict();

// The GitHub trigger's schema lives with its matcher (triggers/github/filter.ts: a leaf
// module of zod and picomatch only), so the events, actions and filters it accepts are
// exactly the ones the matcher understands.
const githubTrigger = GithubTriggerSchema;

const webhookTrigger = z
  .object({ webhook: z.object({ source: z.string().regex(NAME_RE) }).strict() })
  .strict();

const TRIGGER_HELP =
  "must be one of {schedule: <cron|preset>, at?, timezone?}, {at: <ISO instant>}, {in: <duration>}, {api: true}, {github: {events, actions?, filters?}}, {webhook: {source}}";

type AnyTrigger =
  | z.output<typeof scheduleTrigger>
  | z.output<typeof onceAtTrigger>
  | z.output<typeof onceInTrigger>
  | z.output<typeof apiTrigger>
  | z.output<typeof githubTrigger>
  | z.output<typeof webhookTrigger>;

/**
 * The trigger kinds by the key that names them, in the order they are recognised: a mapping
 * with `schedule` is a schedule (its `at` is a time of day), one with only `at` a one-off.
 */
const TRIGGER_KINDS: readonly (readonly [string, z.ZodType<AnyTrigger>])[] = [
  ["schedule", scheduleTrigger],
  ["github", githubTrigger],
  ["webhook", webhookTrigger],
  ["api", apiTrigger],
  ["in", onceInTrigger],
  ["at", onceAtTrigger],
];

/**
 * One way a routine wakes up. The daemon fires them; the foundation validates them. The kind
 * is chosen by its key (`schedule`, `github`, …), and that kind's own errors are reported —
 * `at: "25:99"` says what a time of day is, not which trigger shapes exist.
 */
export const TriggerSchema = z.unknown().transform((value, ctx): AnyTrigger => {
  const kind =
    value && typeof value === "object" && !Array.isArray(value)
      ? TRIGGER_KINDS.find(([key]) => key in value)
      : undefined;
  if (!kind) {
    ctx.addIssue({ code: "custom", message: TRIGGER_HELP });
    return z.NEVER;
  }
  const parsed = kind[1].safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

/** What happens when a trigger fires while a session of the routine is running. */
export const OVERLAP_POLICIES = ["allow", "forbid", "replace", "queue-one"] as const;

/** What happens to schedule slots that fell due while nightshift was not running. */
export const MissedRunsSchema = z.union([
  z.enum(["skip", "fire-once"]),
  z.object({ catch_up: durationSchema() }).strict(),
]);

/** A repository a routine works on: `.` is the project's own repository. */
export const RepoRefSchema = z.union([
  z.string().min(1),
  z
    .object({
      name: z.string().regex(NAME_RE, "must be lowercase letters, digits, '-' or '_'").optional(),
      path: z.string().min(1),
      base: z.string().min(1).optional(),
    })
    .strict(),
]);

/** Tools given to Claude Code when a routine names none (`--tools`). */
export const DEFAULT_ALLOWED_TOOLS = ["Bash", "Edit", "Read", "Write", "Glob", "Grep"];

/**
 * The YAML front-matter of `.nightshift/routines/<name>.md`. Unknown keys are errors, so a
 * typo never silently turns a limit off. Durations are normalised to ms.
 */
export const RoutineFrontMatterSchema = z
  .object({
    name: z.string().regex(NAME_RE, `must be ${ROUTINE_NAME_RULE}`).optional(),
    description: z.string().optional(),
    agent: z.enum(AGENTS).default("claude-code"),
    model: z.string().min(1).optional(),
    command: z.string().min(1).optional(),
    repos: z.array(RepoRefSchema).min(1).default(["."]),
    triggers: z.array(TriggerSchema).default([]),
    branch_prefix: z
      .string()
      .regex(
        /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._-][A-Za-z0-9._/-]*\/$/,
        'must be a git branch prefix ending in "/", such as "nightshift/"',
      )
      .default("nightshift/"),
    timeout: durationSchema().default(30 * 60_000),
    max_turns: z.number().int().positive().max(10_000).optional(),
    allowed_tools: z.array(z.string().min(1)).optional(),
    environment: z.string().regex(NAME_RE).default("default"),
    /** MCP servers of `.nightshift/config.yaml` this routine's agent gets (none unless listed). */
    mcp_servers: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an MCP server name")).optional(),
    enabled: z.boolean().default(true),
    overlap: z.enum(OVERLAP_POLICIES).default("forbid"),
    /** With `overlap: allow`, at most this many sessions of the routine at once (0: no limit). */
    max_concurrent: z.number().int().min(0).max(1000).default(0),
    missed_runs: MissedRunsSchema.default("fire-once"),
    /** The deque workflow step this routine runs (issue agent, PR agent, guard); none for a plain routine. */
    workflow: WorkflowSchema.optional(),
    /**
     * Whose GitHub webhook text may start this routine (triggers/github/author-gate.ts): absent,
     * authors whose author_association is OWNER, MEMBER or COLLABORATOR or who are on
     * deque.allowed_authors; a list adds these logins; `any` lets anyone's text through.
     */
    authors: z
      .union([z.literal("any"), z.array(z.string().regex(GITHUB_LOGIN_RE)).min(1)], {
        error: 'must be "any" or a list of GitHub logins without "@", such as [alice, "dependabot[bot]"]',
      })
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.agent === "command" && !r.command) {
      ctx.addIssue({ code: "custom", path: ["command"], message: 'is required when agent is "command"' });
    }
    if (r.agent !== "command" && r.command) {
      ctx.addIssue({ code: "custom", path: ["command"], message: 'is only allowed when agent is "command"' });
    }
    // The same repository twice would clone it twice into one folder: refuse it here, with the line.
    const seenPaths = new Map<string, number>();
    const seenNames = new Map<string, number>();
    for (const [i, ref] of r.repos.entries()) {
      const path = normalize(typeof ref === "string" ? ref : ref.path).replace(/(.)\/+$/, "$1");
      const earlier = seenPaths.get(path);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["repos", i],
          message: `repeats repos.${earlier} (${JSON.stringify(path)}): each repository may be listed once; remove this entry`,
        });
      } else seenPaths.set(path, i);
      const name = typeof ref === "string" ? undefined : ref.name;
      if (name === undefined) continue;
      const named = seenNames.get(name);
      if (named !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["repos", i, "name"],
          message: `"${name}" is already the name of repos.${named}: each repository needs its own name (it is its folder in the workspace)`,
        });
      } else seenNames.set(name, i);
    }
  });

export type RoutineFrontMatter = z.output<typeof RoutineFrontMatterSchema>;
export type Trigger = z.output<typeof TriggerSchema>;
export type RepoRef = z.output<typeof RepoRefSchema>;

/** A validated routine: its settings plus the prompt (the Markdown body). */
export interface Routine extends Omit<RoutineFrontMatter, "name"> {
  name: string;
  /** The Markdown body of the file, trimmed: the agent's instructions. */
  prompt: string;
  /** Absolute path of the routine file. */
  file: string;
}
