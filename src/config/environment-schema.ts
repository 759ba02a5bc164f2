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
            z
              .string()
              .regex(
                /^[A-Za-z0-9.*-]+(:\d+)?$/,
                "must be a domain such as api.example.com or localhost:8080",
              ),
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
  })
  .strict();

export type Environment = z.output<typeof EnvironmentSchema>;

/** The environment every routine gets unless it names another: package registries, no extra variables. */
export const DEFAULT_ENVIRONMENT: Environment = { network: "registries", env: {}, sandbox: "on" };
