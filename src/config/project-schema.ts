import { z } from "zod";
import { durationSchema } from "./duration.ts";
import { EnvironmentSchema, MCP_SERVER_NAME, McpServerSchema } from "./environment-schema.ts";
import { ALWAYS_PROTECTED_PATHS, DEFAULT_PROTECTED_PATHS, DequeSchema } from "./deque-schema.ts";

/**
 * `forge: {type: local}` (the default): bare repositories under the state folder, issues, PRs,
 * comments and checks in the store. `ci` is a shell command the local forge runs on a PR's
 * head after each push; its exit status is the PR's `ci` check.
 */
export const LocalForgeConfigSchema = z
  .object({
    type: z.literal("local"),
    ci: z.string().min(1).optional(),
    ci_timeout: durationSchema().default(600_000),
  })
  .strict();

/**
 * `forge: {type: github}`: the project's repository on GitHub (`repo: owner/name`), reached
 * with a token from the host environment (`token_env`, default `GITHUB_TOKEN`: a personal
 * access token with contents, issues and pull-request write) or as a GitHub App installation
 * (`app`). `api_url` is for GitHub Enterprise Server (`https://HOST/api/v3`).
 */
export const GithubForgeConfigSchema = z
  .object({
    type: z.literal("github"),
    repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name, such as acme/widgets"),
    api_url: z.url().default("https://api.github.com"),
    token_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .default("GITHUB_TOKEN"),
    app: z
      .object({
        app_id: z.union([z.number().int().positive(), z.string().min(1)]),
        /** PEM file of the App's private key; relative to the project root or `~/`. */
        private_key_file: z.string().min(1),
        installation_id: z.number().int().positive(),
      })
      .strict()
      .optional(),
    /**
     * Where git fetches and pushes: `{owner}` and `{repo}` are filled in. Default
     * `https://github.com/{owner}/{repo}.git` (or the Enterprise host's).
     */
    git_url: z.string().min(1).optional(),
  })
  .strict();

/**
 * `.nightshift/config.yaml`: project settings. Every field is optional; the defaults make
 * the embedded setup (SQLite store, local forge) work with no file at all.
 */
export const ProjectConfigSchema = z
  .object({
    /** Where the store, mirrors, workspaces and the local forge live; relative to the project root. */
    state_dir: z.string().min(1).default(".nightshift/state"),
    forge: z
      .discriminatedUnion("type", [LocalForgeConfigSchema, GithubForgeConfigSchema])
      .default({ type: "local", ci_timeout: 600_000 }),
    workspaces: z
      .object({
        /** How long workspaces of finished sessions are kept before cleanup (`7d`, `12h`, `0` to remove at once). */
        retention: durationSchema({ zero: "to remove at once" }).default(7 * 86_400_000),
        /**
         * How long a finished session can be continued with `nightshift reply` (`7d`, `0`: never):
         * its workspace and private HOME (the agent CLI's conversation files) are kept at least
         * this long after it finished.
         */
        resume_window: durationSchema({ zero: "to allow no follow-ups" }).default(7 * 86_400_000),
      })
      .strict()
      .default({ retention: 7 * 86_400_000, resume_window: 7 * 86_400_000 }),
    git: z
      .object({
        author_name: z.string().min(1).default("nightshift"),
        author_email: z.string().min(3).default("nightshift@localhost"),
      })
      .strict()
      .default({ author_name: "nightshift", author_email: "nightshift@localhost" }),
    /**
     * Paths (picomatch globs) no session may change: a push whose diff touches one is refused
     * and recorded, and the judge never promotes a PR touching one, whatever the prompt said.
     * Default: nightshift's own rules (`.nightshift/**`) and CI configuration. `.nightshift/**`
     * is always added, even to a list that leaves it out: nightshift's rules are only changed
     * by a human.
     */
    protected_paths: z
      .array(z.string().min(1))
      .default(DEFAULT_PROTECTED_PATHS)
      .transform((globs) => [...new Set([...ALWAYS_PROTECTED_PATHS, ...globs])]),
    /** The deque workflow's shared rules: author allowlist and review back-pressure. */
    deque: DequeSchema,
    /** Base URL of `nightshift serve`, used for transcript links in PR bodies. */
    base_url: z.url().optional(),
    /**
     * Names of environment variables whose values are secrets: redacted from transcripts,
     * logs, API replies, CLI output and PR bodies (model credentials always are).
     */
    redact_env: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"))
      .default([]),
    /** Size caps of transcripts (bytes); truncation is marked in the transcript. */
    limits: z
      .object({
        event_bytes: z
          .number()
          .int()
          .min(1024)
          .default(64 * 1024),
        transcript_bytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(50 * 1024 * 1024),
      })
      .strict()
      .default({ event_bytes: 64 * 1024, transcript_bytes: 50 * 1024 * 1024 }),
    /** Named environments routines choose with `environment:`; `default` exists unless redefined. */
    environments: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be lowercase letters, digits, '-' or '_'"),
        EnvironmentSchema,
      )
      .default({}),
    /** A `KEY=value` file (outside the repository) that `from_secrets` values are read from. */
    secrets_file: z.string().min(1).optional(),
    /**
     * MCP servers routines may use (`mcp_servers: [names]` in a routine), in the `.mcp.json`
     * shape: `{command, args?, env?}` or `{type: http|sse, url, headers?}`.
     */
    mcp_servers: z
      .record(z.string().regex(MCP_SERVER_NAME, "must be letters, digits, '-' or '_'"), McpServerSchema)
      .default({}),
    /** `nightshift serve`: where it listens and how much it runs at once. */
    server: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65535).default(7070),
        /** Sessions running at once, all routines together. */
        concurrency: z.number().int().positive().max(64).default(2),
        /** Time SIGTERM gives running sessions to finish before they are cancelled. */
        shutdown_grace: durationSchema().default(60_000),
        /** API fires per token per minute. */
        rate_limit_per_minute: z.number().int().positive().default(60),
        /** How long a worker's claim on a run holds without a heartbeat; a killed worker's runs are retried after it. */
        lease: durationSchema().default(60_000),
        /** Delay before retrying a run that failed for an infrastructure reason; doubles each attempt. */
        retry_backoff: durationSchema().default(60_000),
      })
      .strict()
      .default({
        host: "127.0.0.1",
        port: 7070,
        concurrency: 2,
        shutdown_grace: 60_000,
        rate_limit_per_minute: 60,
        lease: 60_000,
        retry_backoff: 60_000,
      }),
    scheduler: z
      .object({
        /** Schedules that fire more often than this are rejected. */
        min_interval: durationSchema().default(60_000),
        /** A fired run whose session has not started after this is reported by the watchdog. */
        start_deadline: durationSchema().default(10 * 60_000),
      })
      .strict()
      .default({ min_interval: 60_000, start_deadline: 10 * 60_000 }),
    /** Webhook sources: `github` and any other (Sentry, Linear, ...). Secrets come from env vars. */
    webhooks: z
      .object({
        github: z
          .object({
            /** Names of env vars holding the webhook secrets; several allow rotation. */
            secrets_env: z
              .array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"))
              .min(1),
          })
          .strict()
          .optional(),
      })
      .catchall(z.unknown())
      .default({}),
  })
  .strict();

export type ProjectConfig = z.output<typeof ProjectConfigSchema>;
