import { isIPv6 } from "node:net";
import { z } from "zod";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where an environment variable's value comes from: the host's environment or the secrets file. Never a literal. */
export const EnvValueSchema = z.union([
  z.object({ from_env: z.string().regex(ENV_NAME, "must be an environment variable name") }).strict(),
  z.object({ from_secrets: z.string().min(1) }).strict(),
]);

/**
 * The package registries a build needs, for `network: registries` (npm, PyPI, crates.io, Go
 * modules, RubyGems, Maven Central, Debian).
 */
export const REGISTRY_DOMAINS = [
  "registry.npmjs.org",
  "registry.yarnpkg.com",
  "pypi.org",
  "files.pythonhosted.org",
  "crates.io",
  "index.crates.io",
  "static.crates.io",
  "proxy.golang.org",
  "sum.golang.org",
  "rubygems.org",
  "repo.maven.apache.org",
  "repo1.maven.org",
  "deb.debian.org",
] as const;

const HOST_LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/**
 * Whether `entry` is a valid entry of an environment's `network` list: a host name with at
 * least one dot (`api.example.com`, an IPv4 address), `localhost`, a `*.example.com` wildcard
 * (at least two labels after `*.`: `*.com` is too broad), or a bracketed IPv6 address, each
 * optionally followed by `:port` (1–65535). These are the entries the sandbox's proxy
 * (`@anthropic-ai/sandbox-runtime`) accepts; anything else would only fail when a session starts.
 */
export function isNetworkEntry(entry: string): boolean {
  let host = entry;
  const port = /^(.*?):([1-9]\d{0,4})$/.exec(entry);
  if (port) {
    if (Number(port[2]) > 65535) return false;
    host = port[1]!;
  }
  if (host.startsWith("[") && host.endsWith("]")) return isIPv6(host.slice(1, -1));
  if (host === "localhost") return true;
  const labels = (host.startsWith("*.") ? host.slice(2) : host).split(".");
  return labels.length >= 2 && labels.every((l) => HOST_LABEL.test(l));
}

/**
 * A named environment (`environments.<name>` in `.nightshift/config.yaml`): what network the
 * agent may reach and which extra environment variables it gets. Values come from the host
 * environment or the secrets file, never from routine files, and are redacted everywhere.
 */
export const EnvironmentSchema = z
  .object({
    /** `none`, `registries` (package registries), `full`, or a list of allowed domains (`host` or `host:port`). */
    network: z
      .union([
        z.enum(["none", "registries", "full"]),
        z
          .array(
            z.string().refine(isNetworkEntry, {
              error: (issue) => {
                const entry = String(issue.input);
                const single = /^[A-Za-z0-9_-]+(:\d+)?$/.test(entry);
                return `must be a host name with at least one dot (api.example.com), "localhost", a "*.example.com" wildcard (at least two labels after "*."), or one of those with ":port" (1-65535); got ${JSON.stringify(entry)}${single ? ": a single-label name cannot be allowlisted, write its full domain name" : ""}`;
              },
            }),
          )
          .min(1),
      ])
      .default("registries"),
    env: z
      .record(z.string().regex(ENV_NAME, "must be an environment variable name"), EnvValueSchema)
      .default({}),
    /**
     * `on` (default): the agent runs under @anthropic-ai/sandbox-runtime — writes only in its
     * workspace, HOME and TMPDIR, no reads of the host's secrets, network only to `network`.
     * `none` runs it with the runner's rights: unsafe, and said so in every transcript.
     */
    sandbox: z.enum(["on", "none"]).default("on"),
    /**
     * Extra folders or files the sandboxed agent may read (read-only), beyond its workspace,
     * HOME, TMPDIR and the toolchain: absolute paths or `~/…` (the runner's HOME), e.g. a
     * toolchain kept in HOME (`~/.pyenv`, `~/.rustup`). Everything else is unreadable.
     */
    read: z
      .array(
        z
          .string()
          .refine((p) => p.startsWith("/") || p.startsWith("~/"), {
            error: (issue) => `must be an absolute path or start with ~/; got ${JSON.stringify(issue.input)}`,
          })
          .refine((p) => !/[*?[\]{}]/.test(p), { error: "must be a plain path (no glob characters)" }),
      )
      .default([]),
    /**
     * A shell script (bash, `-e -o pipefail`) run in the workspace before the agent, under the
     * same sandbox and network. Its result — files it leaves in the clones that git does not
     * track, and what it writes to HOME — is cached by the hash of this environment, the script
     * and the lockfiles at the base commit; later sessions with the same hash restore it instead.
     */
    setup: z.string().trim().min(1, "must be a shell script; leave setup out for none").optional(),
    /** Globs (picomatch; a pattern without `/` matches at any depth) of the files whose content keys the setup cache. */
    setup_cache_files: z.array(z.string().min(1)).min(1).optional(),
    /**
     * Memory limit of the agent (and of the setup script): bytes, or a number with a binary unit
     * `k`, `m`, `g`, `t` (optionally followed by `b`/`ib`, any case): `"512m"`, `"2g"`, `"1.5GiB"`.
     */
    memory: z
      .union([z.string(), z.number()])
      .transform((v, ctx) => {
        const bytes = parseMemorySize(v);
        if (bytes === undefined || bytes < MIN_MEMORY_BYTES) {
          ctx.addIssue({
            code: "custom",
            message: `must be a size of at least 64m such as "512m", "2g" or a number of bytes; got ${JSON.stringify(v)}`,
          });
          return z.NEVER;
        }
        return bytes;
      })
      .optional(),
  })
  .strict();

export type Environment = z.output<typeof EnvironmentSchema>;

/**
 * Lockfiles that key the setup cache when an environment names no `setup_cache_files`: npm,
 * Yarn, pnpm, Bun, pip, Poetry, uv, Pipenv, Cargo, Go modules, Bundler and Composer.
 */
export const DEFAULT_SETUP_CACHE_FILES = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lockb",
  "requirements*.txt",
  "poetry.lock",
  "uv.lock",
  "Pipfile.lock",
  "Cargo.lock",
  "go.sum",
  "Gemfile.lock",
  "composer.lock",
] as const;

/** The smallest `memory` accepted: 64 MiB. */
export const MIN_MEMORY_BYTES = 64 * 1024 * 1024;

const MEMORY_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Parses a memory size: a number of bytes, or a number with a binary unit (`k`, `m`, `g`, `t`,
 * each ×1024, optionally followed by `b` or `ib`, any case; a bare `b` means bytes).
 * @returns whole bytes, or `undefined` when the text is not a size.
 */
export function parseMemorySize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*$/i.exec(value);
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * MEMORY_UNITS[(m[2] ?? "").toLowerCase()]!);
  return bytes > 0 ? bytes : undefined;
}

/** Names of MCP servers: they become part of tool names (`mcp__<server>__<tool>`). */
export const MCP_SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** An MCP server run by the agent as its child, over stdio (`.mcp.json`'s `command` form). */
export const McpStdioServerSchema = z
  .object({
    type: z.literal("stdio").optional(),
    /** The program; it runs inside the agent's sandbox, so it must be on PATH or an absolute path readable there. */
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** Variables for the server, from the host or the secrets file like an environment's; redacted everywhere. */
    env: z
      .record(z.string().regex(ENV_NAME, "must be an environment variable name"), EnvValueSchema)
      .default({}),
  })
  .strict();

/** An MCP server the agent reaches over the network (`type: http` — streamable HTTP — or `sse`). */
export const McpRemoteServerSchema = z
  .object({
    type: z.enum(["http", "sse"]),
    url: z.url({ protocol: /^https?$/ }),
    /** Header values are literal text, or `{from_env}` / `{from_secrets}` (then redacted everywhere). */
    headers: z
      .record(
        z.string().regex(/^[A-Za-z0-9-]+$/, "must be an HTTP header name"),
        z.union([z.string(), EnvValueSchema]),
      )
      .default({}),
  })
  .strict();

/**
 * One entry of `mcp_servers` in `.nightshift/config.yaml`, in the `.mcp.json` shape: `{command,
 * args?, env?}` (stdio) or `{type: http|sse, url, headers?}`. Routines get only the servers
 * their `mcp_servers:` list names.
 */
export const McpServerSchema = z.union([McpStdioServerSchema, McpRemoteServerSchema], {
  error:
    "must be {command, args?, env?} (stdio) or {type: http|sse, url, headers?}, as in .mcp.json; env values are {from_env} or {from_secrets}",
});

export type McpServerConfig = z.output<typeof McpServerSchema>;

/** The environment every routine gets unless it names another: package registries, no extra variables. */
export const DEFAULT_ENVIRONMENT: Environment = { network: "registries", env: {}, sandbox: "on", read: [] };
