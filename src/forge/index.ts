import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Kysely } from "kysely";
import type { ProjectConfig } from "../config/project-schema.ts";
import type { Database } from "../store/schema.ts";
import type { Clock } from "../util/clock.ts";
import type { GithubThrottleOptions } from "./github/client.ts";
import type { CiConfinement } from "./local/ci-command.ts";
import { LocalForge, type LocalSource } from "./local/local-forge.ts";
import { type Forge, ForgeError } from "./types.ts";
import { errorCode } from "../util/errors.ts";

export type { LocalForgeAdmin } from "./types.ts";

/** What {@link createForge} needs besides the config. The local forge uses `db`, `dir` and `sources`. */
export interface ForgeDeps {
  /** Project root: relative `private_key_file` paths start here. */
  root: string;
  clock: Clock;
  /** Store of the local forge's issues, PRs and comments. */
  db: Kysely<Database>;
  /** Folder of the local forge's bare repositories (`<state_dir>/forge`). */
  dir: string;
  /** Repositories the local forge publishes. */
  sources: LocalSource[];
  /** Committer of the local forge's merge commits (`git.author_*`). */
  identity?: { name: string; email: string };
  /** Where `token_env` is read; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Throttling overrides for the GitHub client (tests against a fake GitHub). */
  githubThrottle?: GithubThrottleOptions;
  log?: { warn: (msg: string) => void };
  /** Confines the local forge's CI command (it runs agent-written code). */
  ciConfine?: CiConfinement;
}

/**
 * Builds the forge the project config names: `local` (the default) or `github`. For GitHub
 * the credentials are a token from the environment variable `token_env` (default
 * `GITHUB_TOKEN`), or, when `app` is set, the App's private key file (relative to the project
 * root, or `~/…`). `git_url` is a template with `{owner}` and `{repo}`.
 *
 * The result is typed as the {@link Forge} interface only: what only the local forge can do
 * is its optional {@link Forge.local} member (a {@link LocalForgeAdmin}), so callers write
 * `const local = forge.local; if (local) …` rather than testing the class.
 *
 * The GitHub adapter (and its HTTP client) is loaded only when the config names GitHub, so a
 * local-forge project never pays for loading it.
 *
 * @throws {ForgeError} (as a rejection) when the token variable is unset or the private key
 *   file cannot be read.
 */
export async function createForge(config: ProjectConfig["forge"], deps: ForgeDeps): Promise<Forge> {
  if (config.type === "local") {
    return new LocalForge({
      db: deps.db,
      dir: deps.dir,
      sources: deps.sources,
      clock: deps.clock,
      ...(config.ci ? { ci: config.ci, ciTimeoutMs: config.ci_timeout } : {}),
      ...(deps.ciConfine ? { ciConfine: deps.ciConfine } : {}),
      ...(deps.identity ? { identity: deps.identity } : {}),
    });
  }
  const [owner] = config.repo.split("/");
  const template = config.git_url;
  const common = {
    apiUrl: config.api_url,
    defaultOwner: owner!,
    clock: deps.clock,
    ...(template
      ? { gitUrl: (o: string, r: string) => template.replaceAll("{owner}", o).replaceAll("{repo}", r) }
      : {}),
    ...(deps.githubThrottle ? { throttle: deps.githubThrottle } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  };
  if (config.app) {
    const file = keyPath(deps.root, config.app.private_key_file);
    let privateKey: string;
    try {
      privateKey = readFileSync(file, "utf8");
    } catch (err) {
      throw new ForgeError(
        `forge: cannot read the GitHub App private key ${file} (forge.app.private_key_file): ${errorCode(err)}; download the key from the App's settings page and point private_key_file at it`,
        { cause: err },
      );
    }
    const { GithubForge } = await import("./github/github-forge.ts");
    return new GithubForge({
      ...common,
      app: { appId: config.app.app_id, privateKey, installationId: config.app.installation_id },
      credentialsHint: `check the GitHub App ${config.app.app_id} (installation ${config.app.installation_id}) has contents, issues and pull-request write on ${config.repo}`,
    });
  }
  const token = (deps.env ?? process.env)[config.token_env];
  if (!token) {
    throw new ForgeError(
      `forge: the GitHub token variable ${config.token_env} is not set (forge.token_env); export ${config.token_env} with a token that has contents, issues and pull-request write on ${config.repo}, or configure forge.app`,
    );
  }
  const { GithubForge } = await import("./github/github-forge.ts");
  return new GithubForge({
    ...common,
    token,
    credentialsHint: `set ${config.token_env} to a token with contents, issues and pull-request write on ${config.repo}`,
  });
}

function keyPath(root: string, file: string): string {
  if (file === "~" || file.startsWith("~/")) return join(homedir(), file.slice(1));
  return isAbsolute(file) ? file : resolve(root, file);
}
