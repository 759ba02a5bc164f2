import { REGISTRY_DOMAINS } from "../../config/environment-schema.ts";
import type { ProjectConfig } from "../../config/project-schema.ts";
import type { CiConfinement } from "../../forge/local/ci-command.ts";
import { sandboxAvailable } from "./availability.ts";
import { ciSandboxPolicy } from "./session-policy.ts";
import { wrapInvocation } from "./wrap.ts";

/**
 * The domains the local forge's CI command may reach: those of the project's `default`
 * environment (`registries` — the default — or its list); none for `none`, and the registries
 * for `full`, which an allowlisting proxy cannot express.
 */
export function ciNetwork(config: ProjectConfig): string[] {
  const network = config.environments.default?.network ?? "registries";
  if (network === "none") return [];
  if (network === "registries" || network === "full") return [...REGISTRY_DOMAINS];
  return [...network];
}

/**
 * How the local forge confines its CI command (`forge.ci`): the pull request's code is an
 * agent's, so it runs in the agent's sandbox ({@link ciSandboxPolicy}); where the sandbox
 * cannot run, unsandboxed in its own PID namespace (still with a clean environment), and the
 * check's log says so.
 */
export function sandboxedCi(project: {
  root: string;
  stateDir: string;
  config: ProjectConfig;
}): CiConfinement {
  return async (ci, folders) => {
    const env = Object.fromEntries(
      Object.entries(ci.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const proc = { ...ci, env };
    const available = await sandboxAvailable();
    if (!available.ok) {
      const w = await wrapInvocation(proc, {
        mode: "none",
        workspace: folders.checkout,
        home: proc.env.HOME ?? folders.scratch,
        tmp: proc.env.TMPDIR ?? folders.scratch,
        allowedDomains: [],
        denyRead: [],
      });
      return {
        process: w.invocation,
        release: w.release,
        warning: `the CI command ran without the sandbox: ${available.reason}`,
      };
    }
    const policy = ciSandboxPolicy({
      project,
      checkout: folders.checkout,
      scratch: folders.scratch,
      objects: folders.objects,
      pathVar: proc.env.PATH,
      network: ciNetwork(project.config),
    });
    const w = await wrapInvocation(proc, policy);
    return { process: w.invocation, release: w.release };
  };
}
