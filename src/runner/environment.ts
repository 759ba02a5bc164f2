import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { errorCode } from "../util/errors.ts";
import {
  DEFAULT_ENVIRONMENT,
  DEFAULT_SETUP_CACHE_FILES,
  type Environment,
  REGISTRY_DOMAINS,
} from "../config/environment-schema.ts";
import { secretsFilePath, secretsFileWarnings } from "../config/project-checks.ts";
import type { Routine } from "../config/routine-schema.ts";
import type { Project } from "../project.ts";

/** A routine's environment made concrete for one session. */
export interface ResolvedEnvironment {
  name: string;
  /** `none`, `full`, or the domains the agent may reach (registries expanded). */
  network: "none" | "full" | string[];
  /** Extra variables for the agent, values resolved. They are secrets: redact them. */
  env: Record<string, string>;
  sandbox: "on" | "none";
  /** Extra paths the sandboxed agent may read (`read:`; `~/` not yet expanded). */
  read: string[];
  /** The setup script (bash), when the environment has one. */
  setup?: string;
  /** Globs of the files whose content keys the setup cache (the defaults when none are configured). */
  setupCacheFiles: string[];
  /** Memory limit of the agent and the setup script, in bytes. */
  memoryBytes?: number;
  /**
   * Problems worth a transcript warning that do not stop the session: the project's
   * `secrets_file` readable by others, inside the repository, or committed (see
   * `secretsFileWarnings`). Empty when there are none.
   */
  warnings?: string[];
  /**
   * The environment as configured, without secret values (variables name their source, not
   * their value): part of the setup cache's hash.
   */
  definition: Environment;
}

/** An environment that cannot be set up: unknown name, missing variable, unreadable secrets file. */
export class EnvironmentError extends Error {
  override name = "EnvironmentError";
}

/**
 * Resolves the environment a routine names (`environment:`, default `default`) from
 * `.nightshift/config.yaml`: its network and its variables, taking values from the host
 * environment (`from_env`) or the project's `secrets_file` (`from_secrets`, a `KEY=value`
 * file read with Node's `util.parseEnv`). Its `warnings` say when the secrets file is kept
 * unsafely (readable by others, inside the repository, committed): the session goes on, and
 * the transcript should show them.
 *
 * @throws {EnvironmentError} saying what is missing and where to set it.
 */
export function resolveEnvironment(
  project: Project,
  routine: Routine,
  hostEnv: NodeJS.ProcessEnv,
): ResolvedEnvironment {
  const name = routine.environment;
  const defined = project.config.environments[name];
  if (!defined && name !== "default") {
    const known = ["default", ...Object.keys(project.config.environments).filter((n) => n !== "default")];
    throw new EnvironmentError(
      `routine "${routine.name}" uses environment "${name}", which .nightshift/config.yaml does not define (environments: ${known.join(", ")})`,
    );
  }
  const envDef: Environment = defined ?? DEFAULT_ENVIRONMENT;
  const env = resolveValues(project, hostEnv, envDef.env, `environment "${name}"`);
  const network =
    envDef.network === "registries"
      ? [...REGISTRY_DOMAINS]
      : envDef.network === "none" || envDef.network === "full"
        ? envDef.network
        : [...envDef.network];
  return {
    name,
    network,
    env,
    sandbox: envDef.sandbox,
    read: [...envDef.read],
    ...(envDef.setup ? { setup: envDef.setup } : {}),
    setupCacheFiles: [...(envDef.setup_cache_files ?? DEFAULT_SETUP_CACHE_FILES)],
    ...(envDef.memory ? { memoryBytes: envDef.memory } : {}),
    warnings: secretsFileWarnings(project.root, project.config),
    definition: envDef,
  };
}

/** Where a value comes from: a host variable or a key of the project's secrets file. */
export type ValueSource = { from_env: string } | { from_secrets: string };

/**
 * Resolves `{from_env}` / `{from_secrets}` values (an environment's `env`, an MCP server's
 * `env` or headers): from the host environment, or the project's `secrets_file` (a `KEY=value`
 * file read with Node's `util.parseEnv`, only when a value needs it).
 *
 * @param owner - what the values belong to, for messages: `environment "deploy"`, `MCP server "docs"`.
 * @throws {EnvironmentError} naming the missing variable or key and where to set it.
 */
export function resolveValues(
  project: Project,
  hostEnv: NodeJS.ProcessEnv,
  sources: Record<string, ValueSource>,
  owner: string,
): Record<string, string> {
  let secrets: Record<string, string | undefined> | undefined;
  const readSecrets = () => {
    if (secrets) return secrets;
    const file = project.config.secrets_file;
    if (!file) {
      throw new EnvironmentError(
        `${owner} takes a value from_secrets, but .nightshift/config.yaml sets no secrets_file (a KEY=value file kept outside the repository)`,
      );
    }
    const path = secretsFilePath(project.root, file);
    try {
      secrets = parseEnv(readFileSync(path, "utf8"));
    } catch (err) {
      throw new EnvironmentError(`cannot read secrets_file ${path} (${errorCode(err)})`, { cause: err });
    }
    return secrets;
  };
  const out: Record<string, string> = {};
  for (const [key, source] of Object.entries(sources)) {
    const value = "from_env" in source ? hostEnv[source.from_env] : readSecrets()[source.from_secrets];
    if (value === undefined || value === "") {
      throw new EnvironmentError(
        "from_env" in source
          ? `${owner} needs ${key} from the host variable ${source.from_env}, which is not set`
          : `${owner} needs ${key} from "${source.from_secrets}" in the secrets file, which has no such key`,
      );
    }
    out[key] = value;
  }
  return out;
}
