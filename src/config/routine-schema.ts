import { Cron } from "croner";
import { z } from "zod";
import { GithubTriggerSchema } from "../triggers/github/filter.ts";
import { parseDuration } from "./duration.ts";
import { WorkflowSchema } from "./workflow-schema.ts";

/** The agent CLIs nightshift can drive. */
export const AGENTS = ["claude-code", "codex", "command"] as const;
export type AgentKind = (typeof AGENTS)[number];

/** Schedule presets accepted in `triggers[].schedule` besides a 5-field cron expression. */
export const SCHEDULE_PRESETS = ["hourly", "daily", "weekdays", "weekly"] as const;

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const duration = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `${what} must be a duration such as "90s", "30m", "2h" or a number of seconds; got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return ms;
  });

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

const scheduleTrigger = z
  .object({
    schedule: z.string().refine(
      (s) => {
        if ((SCHEDULE_PRESETS as readonly string[]).includes(s)) return true;
        if (s.trim().split(/\s+/).length !== 5) return false;
        try {
          new Cron(s, { paused: true });
          return true;
        } catch {
          return false;
        }
      },
      {
        message: `must be a 5-field cron expression ("0 9 * * 1-5") or one of ${SCHEDULE_PRESETS.join(", ")}`,
      },
    ),
    at: z
      .string()
      .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'must be a time of day "HH:MM"')
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

/** One way a routine wakes up. The daemon fires them; the foundation validates them. */
export const TriggerSchema = z.union(
  [scheduleTrigger, onceAtTrigger, onceInTrigger, apiTrigger, githubTrigger, webhookTrigger],
  {
    error:
      "must be one of {schedule: <cron|preset>, at?, timezone?}, {at: <ISO instant>}, {in: <duration>}, {api: true}, {github: {events, actions?, filters?}}, {webhook: {source}}",
  },
);

/** What happens when a trigger fires while a session of the routine is running. */
export const OVERLAP_POLICIES = ["allow", "forbid", "replace", "queue-one"] as const;

/** What happens to schedule slots that fell due while nightshift was not running. */
export const MissedRunsSchema = z.union([
  z.enum(["skip", "fire-once"]),
  z.object({ catch_up: duration("missed_runs.catch_up") }).strict(),
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
    name: z.string().regex(NAME_RE, "must be lowercase letters, digits, '-' or '_' (at most 63)").optional(),
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
    timeout: duration("timeout").default(30 * 60_000),
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
    /** The deque blueprint this routine runs (issue agent, PR agent, guard); none for a plain routine. */
    workflow: WorkflowSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.agent === "command" && !r.command) {
      ctx.addIssue({ code: "custom", path: ["command"], message: 'is required when agent is "command"' });
    }
    if (r.agent !== "command" && r.command) {
      ctx.addIssue({ code: "custom", path: ["command"], message: 'is only allowed when agent is "command"' });
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
